#include "coordinator/mix/recording_ring.h"

#include <algorithm>
#include <bit>

#include "shared/realtime_counters.h"
#include "shared/shared_futex.h"

namespace synthfarm {
namespace {

std::uint32_t power_of_two_frames(std::uint32_t requested) {
  return std::bit_ceil(std::clamp<std::uint32_t>(requested, 1, RecordingRing::kMaxFrames));
}

}  // namespace

RecordingRing::RecordingRing(std::uint32_t channels, std::uint32_t capacity_frames,
                             std::uint32_t wake_frames)
    : capacity_frames_(power_of_two_frames(capacity_frames)),
      wake_frames_(std::clamp<std::uint32_t>(wake_frames ? wake_frames : capacity_frames_ / 64, 1,
                                             capacity_frames_)),
      // Value-initialised: zeroing touches every page now, so the callback never page-faults.
      memory_(std::make_unique<float[]>(std::size_t{capacity_frames_} * channels)),
      ring_(write_pos_, read_pos_, memory_.get(), capacity_frames_, channels) {}

void RecordingRing::on_mixed(const float* interleaved, std::uint32_t frames) noexcept {
  const std::uint64_t free_frames = ring_.free_frames();
  const auto fitting = static_cast<std::uint32_t>(std::min<std::uint64_t>(frames, free_frames));
  if (fitting > 0) ring_.write(interleaved, fitting);
  // Only this thread writes the counter; others read it.
  if (fitting < frames) add_relaxed(dropped_, frames - fitting);
  // The consumer sleeps until the ring holds wake_frames (wait_for_frames). Frames the ring
  // holds, as seen before the write (the producer's view is never below the truth).
  if (ring_.capacity_frames() - free_frames + fitting >= wake_frames_) notify_sleeper(wake_);
}

void RecordingRing::wait_for_frames(std::chrono::nanoseconds timeout) noexcept {
  sleep_until_ready(
      wake_,
      [this] {
        // Relaxed: sleep_until_ready's fence and close()'s futex wake order it.
        return ring_.available_frames() >= wake_frames_ || closed_.load(std::memory_order_relaxed);
      },
      timeout);
}

void RecordingRing::close() noexcept {
  // Release: pairs with the acquire in closed(); what on_mixed() pushed before this call is
  // then visible to the consumer's last look at the ring.
  closed_.store(true, std::memory_order_release);
  wake_always(wake_);
}

}  // namespace synthfarm
