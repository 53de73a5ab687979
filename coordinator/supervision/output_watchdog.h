#pragma once
// Notices an audio output that stopped asking for audio. RtAudio 5.2 does not report a
// vanished JACK server: its callback simply stops coming. The control thread feeds the
// mixer's call count in; time comes in as an argument, so a test needs no clock.

#include <chrono>
#include <cstdint>
#include <optional>

namespace synthfarm {

class OutputWatchdog {
 public:
  using Clock = std::chrono::steady_clock;
  // Silence shorter than this, or than four of the output's periods if those are longer, is
  // a slow or busy server, not a gone one.
  static constexpr std::chrono::milliseconds kMinimumSilence{500};

  // Thread: control. `started`: when the watch begins (the output has just started).
  OutputWatchdog(std::uint32_t block_frames, std::uint32_t sample_rate_hz,
                 Clock::time_point started) noexcept;

  // Thread: control. Pure: no clock read, no allocation. `calls`: the mixer's call count read at
  // `now`. Returns how long the output has made no call once that is over the limit; nullopt while
  // it keeps calling.
  std::optional<std::chrono::milliseconds> silent_for(std::uint64_t calls,
                                                      Clock::time_point now) noexcept;

 private:
  std::chrono::duration<double> limit_;
  std::uint64_t last_calls_ = 0;
  Clock::time_point last_progress_;
};

}  // namespace synthfarm
