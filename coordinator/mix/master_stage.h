#pragma once
// The last stage before the device or the file: pyo's server fade-in, a fade-out at stop, the
// master gain (FIFO `gain <dB>`), NaN/Inf removal and, for devices, a limit to ±1.
//
// Per sample, in this order: the fade-in (pyo's rounding, bit for bit), the fade-out, the
// master gain, then NaN/Inf replacement and the limit, so that neither a gain nor a fade can
// push a bad or loud sample past them.

#include <atomic>
#include <cstdint>

#include "shared/linear_ramp.h"
#include "shared/parameter_ranges.h"

namespace synthfarm {

class MasterStage {
 public:
  // The range set_gain_db() keeps to (the FIFO parser refuses anything outside it).
  static constexpr double kMinGainDb = synthfarm::kMinGainDb;
  static constexpr double kMaxGainDb = synthfarm::kMaxGainDb;
  // How long a gain change takes, as a linear ramp of the linear gain. 10 ms turns a step
  // (the click) into a ramp whose spectrum falls off above ~100 Hz, the bottom of what a
  // click's energy sits in, and stays short of the ~20 ms at which a response to a typed
  // command starts to feel late. Twice pyo's 5 ms fade-in, which only ever goes up from 0.
  static constexpr double kGainRampSeconds = 0.010;

  // limit_output: clamp to [-1, 1] (devices). Files are written unclipped, as pyo does.
  // The master gain starts at 0 dB (1.0, which leaves every sample bit for bit as it was).
  MasterStage(std::uint32_t sample_rate_hz, bool limit_output) noexcept;

  // Thread: the output (audio callback, null clock or file thread). RT-safe: no allocation,
  // lock, syscall or I/O. Applies the fades and the gain to `frames` interleaved frames of
  // `channels` in place. A gain set since the last call starts its ramp at this call's first
  // frame (gain changes apply at block boundaries).
  void process(float* interleaved, std::uint32_t frames, std::uint32_t channels) noexcept;

  // Thread: control. The output ramps to silence over fade_frames() and stays silent.
  void request_fade_out() noexcept { fade_out_requested_.store(true, std::memory_order_release); }
  // Thread: control. True once the fade-out has reached silence.
  bool faded_out() const noexcept { return faded_out_.load(std::memory_order_acquire); }

  // Thread: control. RT-safe (one atomic store). The master gain in dB, clamped to
  // [kMinGainDb, kMaxGainDb]; 0 dB is unity. A NaN is ignored (the gain stays as it was).
  // The output ramps from wherever its gain is to the new one over gain_ramp_frames(),
  // starting at the next process() call; a change during a ramp starts a new ramp from there.
  void set_gain_db(double db) noexcept;
  // Thread: control. The gain last set (the target of any ramp in progress), in dB, as set
  // after the clamp.
  double gain_db() const noexcept { return target_gain_db_; }

  std::uint32_t fade_frames() const noexcept { return fade_frames_; }
  std::uint32_t gain_ramp_frames() const noexcept { return gain_ramp_.frames(); }
  std::uint64_t nonfinite_samples() const noexcept {
    return nonfinite_samples_.load(std::memory_order_relaxed);
  }
  std::uint64_t limited_samples() const noexcept {
    return limited_samples_.load(std::memory_order_relaxed);
  }

 private:
  // pyo's fade-in (SINELOOP.md §8): T = int(0.005 * sr) frames; the gain accumulates float32(1/T)
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
  // The master gain, linear. Written by the control thread, read by the output thread.
  std::atomic<float> target_gain_{1.0f};
  // The same in dB, for reports: written and read by the control thread only.
  double target_gain_db_ = 0.0;
  static_assert(std::atomic<float>::is_always_lock_free);
  LinearRamp gain_ramp_;  // owned by the output thread
  // Counted by the output thread, read by the control thread (relaxed: statistics).
  std::atomic<std::uint64_t> nonfinite_samples_{0};
  std::atomic<std::uint64_t> limited_samples_{0};
};

}  // namespace synthfarm
