#pragma once
// The last stage before the device or the file: pyo's server fade-in, a fade-out at stop,
// NaN/Inf removal and, for devices, a limit to ±1.

#include <atomic>
#include <cstdint>

namespace synthfarm {

class MasterStage {
 public:
  // limit_output: clamp to [-1, 1] (devices). Files are written unclipped, as pyo does.
  MasterStage(std::uint32_t sample_rate_hz, bool limit_output) noexcept;

  // Thread: the output (audio callback, null clock or file thread). RT-safe.
  // Applies the gain to `frames` interleaved frames of `channels` in place.
  void process(float* interleaved, std::uint32_t frames, std::uint32_t channels) noexcept;

  // Thread: control. The output ramps to silence over fade_frames() and stays silent.
  void request_fade_out() noexcept { fade_out_requested_.store(true, std::memory_order_release); }
  // Thread: control. True once the fade-out has reached silence.
  bool faded_out() const noexcept { return faded_out_.load(std::memory_order_acquire); }

  std::uint32_t fade_frames() const noexcept { return fade_frames_; }
  std::uint64_t nonfinite_samples() const noexcept {
    return nonfinite_samples_.load(std::memory_order_relaxed);
  }
  std::uint64_t limited_samples() const noexcept {
    return limited_samples_.load(std::memory_order_relaxed);
  }

 private:
  // pyo's fade-in (SPEC.md §8): T = int(0.005 * sr) frames; the gain accumulates float32(1/T)
  // per frame, starting with the first frame, and stays at its float32 sum (0.9999992).
  std::uint32_t fade_frames_;
  float fade_in_step_;
  float fade_in_gain_ = 0.0f;
  std::uint32_t fade_in_count_ = 0;
  bool limit_output_;
  // Fade-out state: owned by the output thread once requested.
  std::uint32_t fade_out_count_ = 0;
  std::atomic<bool> fade_out_requested_{false};
  std::atomic<bool> faded_out_{false};
  // Counted by the output thread, read by the control thread (relaxed: statistics).
  std::atomic<std::uint64_t> nonfinite_samples_{0};
  std::atomic<std::uint64_t> limited_samples_{0};
};

}  // namespace synthfarm
