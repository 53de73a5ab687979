#pragma once
// A worker's oscillators, rendered with SIMD: many SineLoop oscillators side by side in vector
// lanes, several vectors interleaved per sample so the feedback chain's latency is hidden.
//
// Shape (after DaisySP): fixed oscillator count at construction, setters that clamp and
// precompute, one render() per block that loads state, loops and stores it back.
// All memory (64-byte aligned) is allocated by the constructor; render() never allocates.
//
// Kernels (shared/kernel_kind.h):
//   exact: bit-identical to pyo 1.0.4 and to SineLoopGroup (shared/sine_loop.h), on every
//          target: same float32 operations per oscillator, no FMA, channel sums in index order.
//   fast:  phase kept as pyo keeps it (float32, table units scaled to turns, wrapped each
//          sample); a polynomial sine; FMA; sums in any order.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "shared/kernel_kind.h"
#include "shared/simd_target.h"

namespace synthfarm {

class OscillatorBank {
 public:
  // Same meaning as SineLoopGroup's arguments: oscillator k plays on channel k % channels;
  // mul is applied to every oscillator; feedback is clipped to [0, 1].
  // `target` must be one of usable_simd_targets().
  OscillatorBank(std::span<const double> frequencies_hz, double sample_rate_hz, double feedback,
                 double mul, std::uint32_t channels, std::uint32_t max_block_frames,
                 KernelKind kernel, SimdTarget target);
  ~OscillatorBank();
  OscillatorBank(const OscillatorBank&) = delete;
  OscillatorBank& operator=(const OscillatorBank&) = delete;

  std::size_t size() const noexcept;
  std::uint32_t channels() const noexcept;
  KernelKind kernel() const noexcept;
  SimdTarget target() const noexcept;

  // Thread: the render loop. RT-safe. Jumps that take effect at the next render(), exactly as
  // SineLoopGroup's (and pyo's) setters do: for set-up and comparisons with pyo. A jump in a
  // playing oscillator can click; a running worker uses the smooth changes below.
  // feedback: clipped to [0, 1]; NaN is 0. mul: any finite value. Each cancels a glide or ramp
  // of the same parameter in progress.
  void set_feedback(double feedback) noexcept;
  void set_mul(double mul) noexcept;

  // Thread: the render loop. RT-safe. Smooth changes (FIFO `set`), starting at the next
  // render(); until one is asked for, render() is bit for bit what it always was.
  //
  // feedback: from the feedback in use to the new one (clipped as set_feedback does) in equal
  // linear steps, one per kFeedbackGlideStepFrames frames, over kFeedbackGlideSeconds
  // (feedback_glide_steps() steps; the glide runs on across render() calls if they are
  // short). The kernels take one feedback per call, so the glide renders in sub-blocks. Why
  // steps are enough: a feedback step of d moves an oscillator's phase modulation by at most
  // 2 pi d radians, so its output by at most 2 pi d; a 0 -> 0.5 change in 30 steps (48 kHz)
  // moves it by at most 0.105 per step, against up to 1.57 for the whole change at once.
  void glide_feedback_to(double feedback) noexcept;
  // mul: from the mul in use to the new one over mul_ramp_frames() frames (kMulRampSeconds,
  // whatever the block size; the ramp runs on across render() calls). Frame n (of N) of the
  // ramp is scaled by lerp(old, new, (n+1)/N): linear, monotonic, and exactly the new mul at
  // its last frame, after which every frame renders exactly as in a bank built with it. The
  // ramp is applied to the channel sums rendered with mul 1 (no division, so an old or new mul
  // of 0 is no special case); during the ramp the result differs from pyo's per-oscillator
  // product by float32 rounding only. A new target during a ramp starts a new full-length ramp
  // from the mul reached so far.
  void ramp_mul_to(double mul) noexcept;
  // Reseed: new frequencies (one per oscillator, in order; any value, as the constructor
  // takes them), effective at the next render(). Phases and last outputs are kept, so each
  // waveform continues from where it is and only its speed changes: no jump, no click.
  // Returns false, changing nothing, when the count differs from size().
  bool set_frequencies(std::span<const double> frequencies_hz) noexcept;

  static constexpr std::uint32_t kFeedbackGlideStepFrames = 16;  // a multiple of every SIMD width
  static constexpr double kFeedbackGlideSeconds = 0.010;
  // Steps of the glide at this bank's sample rate: kFeedbackGlideSeconds in whole steps.
  std::uint32_t feedback_glide_steps() const noexcept;
  static constexpr double kMulRampSeconds = 0.010;
  // Frames of a mul ramp at this bank's sample rate: kMulRampSeconds rounded, at least 1.
  std::uint32_t mul_ramp_frames() const noexcept;

  // Thread: the render loop. RT-safe: no allocation, lock or syscall.
  // Writes `frames` (<= max_block_frames) interleaved frames to `out`.
  void render(float* out, std::uint32_t frames) noexcept;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Denormals are flushed to zero and treated as zero on this thread from now on (MXCSR FTZ and
// DAZ): a decaying signal never drops onto the slow microcoded path. Call once per thread that
// renders. Returns false where the CPU has no such switch.
bool enable_flush_to_zero() noexcept;

}  // namespace synthfarm
