#include "coordinator/supervision/output_watchdog.h"

#include <algorithm>

namespace synthfarm {

OutputWatchdog::OutputWatchdog(std::uint32_t block_frames, std::uint32_t sample_rate_hz,
                               Clock::time_point started) noexcept
    : limit_(std::max<std::chrono::duration<double>>(
          kMinimumSilence, std::chrono::duration<double>(4.0 * block_frames / sample_rate_hz))),
      last_progress_(started) {}

std::optional<std::chrono::milliseconds> OutputWatchdog::silent_for(
    std::uint64_t calls, Clock::time_point now) noexcept {
  if (calls != last_calls_) {
    last_calls_ = calls;
    last_progress_ = now;
    return std::nullopt;
  }
  if (now - last_progress_ <= limit_) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - last_progress_);
}

}  // namespace synthfarm
