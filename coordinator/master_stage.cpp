#include "coordinator/master_stage.h"

#include <cmath>

#include "shared/realtime_counters.h"

namespace synthfarm {

MasterStage::MasterStage(std::uint32_t sample_rate_hz, bool limit_output) noexcept
    : fade_frames_(static_cast<std::uint32_t>(0.005 * sample_rate_hz)),
      fade_in_step_(1.0f / static_cast<float>(fade_frames_)),
      limit_output_(limit_output) {}

void MasterStage::process(float* interleaved, std::uint32_t frames,
                          std::uint32_t channels) noexcept {
  // Acquire pairs with request_fade_out's release (nothing else rides on it, but it is cheap).
  const bool fading_out = fade_out_requested_.load(std::memory_order_acquire);
  std::uint64_t nonfinite = 0;
  std::uint64_t limited = 0;
  for (std::uint32_t n = 0; n < frames; ++n) {
    if (fade_in_count_ < fade_frames_) {
      fade_in_gain_ = fade_in_gain_ + fade_in_step_;
      ++fade_in_count_;
    }
    float fade_out_gain = 1.0f;
    if (fading_out) {
      fade_out_gain =
          fade_out_count_ >= fade_frames_
              ? 0.0f
              : 1.0f - static_cast<float>(fade_out_count_ + 1) / static_cast<float>(fade_frames_);
      if (fade_out_count_ < fade_frames_) ++fade_out_count_;
    }
    float* frame = interleaved + std::size_t{n} * channels;
    for (std::uint32_t c = 0; c < channels; ++c) {
      float sample = frame[c] * fade_in_gain_;  // one rounding, as pyo's server
      if (fading_out) sample = sample * fade_out_gain;
      if (!std::isfinite(sample)) {
        sample = 0.0f;
        ++nonfinite;
      } else if (limit_output_ && std::fabs(sample) > 1.0f) {
        sample = std::copysign(1.0f, sample);
        ++limited;
      }
      frame[c] = sample;
    }
  }
  if (nonfinite) add_relaxed(nonfinite_samples_, nonfinite);
  if (limited) add_relaxed(limited_samples_, limited);
  // Release pairs with faded_out()'s acquire: the control thread may stop the stream now.
  if (fading_out && fade_out_count_ >= fade_frames_) {
    faded_out_.store(true, std::memory_order_release);
  }
}

}  // namespace synthfarm
