#pragma once
// The audio devices synthfarm can play on, for --list-devices and --device. The probing itself
// is libjack's for JACK (jack_output.cpp) and RtAudio's for PulseAudio and ALSA
// (rtaudio_output.cpp), behind probe_audio_devices in audio_output.h; this header stays free
// of both libraries' types.

#include <optional>
#include <string>
#include <vector>

#include "coordinator/plan/cli_options.h"

namespace synthfarm {

struct AudioDevice {
  AudioApi api = AudioApi::kJack;
  unsigned index = 0;  // its number within `api`: what `--device N` means
  std::string name;    // under JACK: the client whose ports it is ("system")
  unsigned output_channels = 0;
  unsigned input_channels = 0;
  std::vector<unsigned> sample_rates_hz;  // under JACK: only the server's rate
  unsigned preferred_rate_hz = 0;
  bool default_output = false;  // what the API plays on without --device
};

// The APIs synthfarm plays on (JACK natively, the others through Debian's RtAudio 5.2), in the
// order --audio auto tries them.
inline constexpr AudioApi kDeviceApis[] = {AudioApi::kJack, AudioApi::kPulse, AudioApi::kAlsa};

// "JACK", "PulseAudio", "ALSA": for messages.
const char* audio_api_label(AudioApi api) noexcept;

// Thread: main, before anything plays. Asks each API (only `only`, unless it is absent or
// kAuto) for its devices; an API whose server is not running has none. Prints nothing: the
// audio libraries' own messages are silenced. Blocks on the audio servers; allocates.
std::vector<AudioDevice> list_audio_devices(std::optional<AudioApi> only);

// What to check when `api` (jack, pulse or alsa) offers no device, and how to get one going.
struct DeviceAdvice {
  const char* question;  // "is jackd running, ...?": short, for one-line errors
  const char* remedy;    // "Start one with `jackd -d alsa`, ...": for --list-devices
};
DeviceAdvice advice_for(AudioApi api) noexcept;

// An aligned table, one device per line, the default output of each API marked, ending with
// how to choose one. Allocates.
std::string format_device_table(const std::vector<AudioDevice>& devices);

// A JSON array of objects with api (as --audio spells it), index, name, output_channels,
// input_channels, sample_rates_hz, preferred_rate_hz and default_output. Allocates.
std::string format_device_json(const std::vector<AudioDevice>& devices);

// What to tell the user when list_audio_devices(only) found nothing: which servers to start,
// `aplay -l` for ALSA, and how to play without a device.
std::string explain_no_devices(std::optional<AudioApi> only);

// How `--device QUERY` reads against one API's devices.
struct DeviceMatch {
  enum class Kind { kFound, kNone, kSeveral } kind = Kind::kNone;
  AudioDevice device;     // kFound only
  std::string error;      // kNone and kSeveral: what was looked for and what exists
  std::string available;  // "JACK has 0 'system'" or "JACK lists no device with outputs"
};

// Pure. `query` is an index as listed (digits only) or a case-insensitive part of a device
// name. A name equal to the query (ignoring case) wins over names that only contain it; only
// devices with output channels are candidates for a name. `devices` are one API's, as
// list_audio_devices gives them.
DeviceMatch match_device(const std::vector<AudioDevice>& devices, AudioApi api,
                         const std::string& query);

}  // namespace synthfarm
