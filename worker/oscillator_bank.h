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

  // Thread: the render loop. RT-safe. Take effect at the next render().
  void set_feedback(double feedback) noexcept;
  void set_mul(double mul) noexcept;

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
