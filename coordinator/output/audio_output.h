#pragma once
// Where the mix goes in real time: synthfarm's own JACK client (jack_output.h), an RtAudio
// device (PulseAudio, ALSA) or the built-in null clock. Each calls Mixer::mix from its own
// real-time thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/mix/mixer.h"
#include "coordinator/output/device_list.h"
#include "coordinator/plan/cli_options.h"

namespace synthfarm {

class AudioOutput {
 public:
  virtual ~AudioOutput() = default;

  // "JACK, 48000 Hz, 256 frames per buffer" and the like, for the start-up report.
  virtual std::string description() const = 0;
  // What the device granted; may differ from what was asked (JACK imposes its period).
  virtual std::uint32_t sample_rate_hz() const = 0;
  virtual std::uint32_t buffer_frames() const = 0;

  // Thread: control. Starts calling mixer.mix(). Returns false and sets `error` on failure.
  virtual bool start(Mixer& mixer, std::string& error) = 0;
  // Thread: control. Blocks until the output thread no longer touches the mixer.
  virtual void stop() noexcept = 0;

  // Thread: control; poll it. Does not block. Empty while the output can go on playing; once it
  // cannot (its server went away, or imposed a buffer size it cannot follow), the one line that
  // says what happened and what to do, for the control thread to print before it ends the run
  // with exit code 1. Outputs that cannot fail this way (null clock, RtAudio) always say "".
  virtual std::string failure() const { return {}; }

  // Thread: control. Does not block. Xruns the audio server has reported since the output
  // opened (JACK's xrun callback: some client of the graph, not necessarily synthfarm, missed
  // its cycle); 0 for outputs whose server reports none.
  virtual std::uint64_t server_xruns() const noexcept { return 0; }

  // Thread: control, before start(). The SCHED_FIFO/RR priority the output thread will run
  // with, or nullopt when it will not be real-time (JACK without -R). Our own threads are placed
  // below it (shared/realtime_policy.h). JACK: the priority the server gives its clients; the
  // null clock and RtAudio: the priority they ask for (a refusal shows in the trial the policy
  // makes, and the start-up report reads what the thread really got).
  virtual std::optional<int> audio_thread_priority() const = 0;
};

// The built-in clock: a thread that sleeps to absolute deadlines and mixes one buffer per
// period, for headless machines. Never fails.
std::unique_ptr<AudioOutput> make_null_clock_output(std::uint32_t sample_rate_hz,
                                                    std::uint32_t buffer_frames,
                                                    std::uint32_t channels);

// Opens (without starting) an RtAudio stream on `api` (pulse or alsa; JACK goes through
// open_jack_output), on `device` (one of probe_audio_devices(api)) or, when absent, the API's
// default output. `client_name` names the stream. Returns nullptr and sets `error` (what
// failed and what to do) when the device cannot be opened. Asks for real-time scheduling of
// the audio thread; without the privilege the thread runs unprivileged.
std::unique_ptr<AudioOutput> open_rtaudio_output(
    AudioApi api, const std::optional<AudioDevice>& device, std::uint32_t sample_rate_hz,
    std::uint32_t buffer_frames, std::uint32_t channels, const std::string& client_name,
    std::string& error);

// The devices of `api`: JACK's from libjack (probe_jack_devices), PulseAudio's and ALSA's as
// RtAudio finds and numbers them; none when the API's server is not running. Prints nothing.
// Blocks on the audio server.
std::vector<AudioDevice> probe_audio_devices(AudioApi api);

// The JACK client name of an instance: its --name, or "synthfarm" for the default instance.
std::string jack_client_name_for(const std::string& instance_name);

// --audio, --device and --connect as asked; JACK through synthfarm's own client. Without --device,
// auto tries JACK, PulseAudio and ALSA, then falls back to the null clock and sets `notice` to the
// one line that says so. With --device, auto takes the first of those APIs that has a matching
// device, and there is no fallback: a device that matches nothing, or several, is an error. Returns
// nullptr with `error` when a named API or device fails.
std::unique_ptr<AudioOutput> open_audio_output(const Options& options, std::string& error,
                                               std::string& notice);

}  // namespace synthfarm
