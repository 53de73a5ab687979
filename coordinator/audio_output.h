#pragma once
// Where the mix goes in real time: an RtAudio device (JACK, PulseAudio, ALSA) or the built-in
// null clock. Both call Mixer::mix from their own real-time thread.

#include <cstdint>
#include <memory>
#include <string>

#include "coordinator/cli_options.h"
#include "coordinator/mixer.h"

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
};

// The built-in clock: a thread that sleeps to absolute deadlines and mixes one buffer per
// period, for headless machines. Never fails.
std::unique_ptr<AudioOutput> make_null_clock_output(std::uint32_t sample_rate_hz,
                                                    std::uint32_t buffer_frames,
                                                    std::uint32_t channels);

// Opens (without starting) an RtAudio stream on `api` (jack, pulse or alsa). Returns nullptr
// and sets `error` (what failed and what to do) when no device can be opened.
std::unique_ptr<AudioOutput> open_rtaudio_output(AudioApi api, std::uint32_t sample_rate_hz,
                                                 std::uint32_t buffer_frames,
                                                 std::uint32_t channels,
                                                 const std::string& client_name,
                                                 std::string& error);

// --audio as asked: auto tries JACK, PulseAudio and ALSA, then falls back to the null clock
// and sets `notice` to the one line that says so. Returns nullptr with `error` only when a
// named API fails.
std::unique_ptr<AudioOutput> open_audio_output(const Options& options, std::string& error,
                                               std::string& notice);

}  // namespace synthfarm
