#pragma once
// pyo 1.0.4's SineLoop (a table sine oscillator with feedback), bit for bit.
// The formulas, their rounding and why each matters: docs/SINELOOP.md.
//
// Shape (after DaisySP): fixed oscillator count at construction, setters that clamp and
// precompute, one render() per block that loads state, loops and stores it back.

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace synthfarm {

inline constexpr std::size_t kSineTableSize = 512;

// The 512-point table plus pyo's guard point [512] = +0.0 and one padding entry [513] that is
// read (with weight exactly 0) when a read position wraps to exactly 512.0 (SINELOOP.md §2, §4).
const std::array<float, kSineTableSize + 2>& sine_table() noexcept;

// Phase increment in table units per sample: float32((double)(float32(freq) * 512) / sr),
// the "ii" rounding of SINELOOP.md §3.
float sineloop_increment(double frequency_hz, double sample_rate_hz) noexcept;

// Feedback in table units: float32(feedback) clipped to [0, 1], times 512 (SINELOOP.md §3).
float sineloop_feed(double feedback) noexcept;

// Brings a table position into [0, 512) exactly as pyo's Sine_clip (SINELOOP.md §4, "W").
float wrap_table_position(float position) noexcept;

class SineLoopGroup {
 public:
  // frequencies_hz: one per oscillator, any value (negative and above Nyquist alias, as in pyo).
  // feedback: pyo's feedback, clipped to [0, 1]; default 0.1 in synthfarm.
  // mul: per-oscillator gain applied after the oscillator (pyo's mul; 1 leaves samples as they
  //   are). channels: oscillator k goes to channel k % channels, as pyo's .out().
  // max_block_frames: the most frames one render() call may ask for.
  // Allocates; call before real time starts.
  SineLoopGroup(std::span<const double> frequencies_hz, double sample_rate_hz, double feedback,
                double mul, std::uint32_t channels, std::uint32_t max_block_frames);

  std::size_t size() const noexcept { return phase_.size(); }
  std::uint32_t channels() const noexcept { return channels_; }

  // Thread: the render loop. RT-safe. Takes effect at the next render().
  void set_feedback(double feedback) noexcept;
  void set_mul(double mul) noexcept;

  // Thread: the render loop. RT-safe: no allocation, lock or syscall.
  // Writes `frames` (<= max_block_frames) interleaved frames to `out`: per channel, the
  // float32 sum of its oscillators added in index order starting from 0 (pyo's order, SINELOOP.md
  // §8).
  void render(float* out, std::uint32_t frames) noexcept;

 private:
  std::vector<float> phase_;      // pyo's `ptr`, table units
  std::vector<float> last_;       // the previous output sample, before mul
  std::vector<float> increment_;  // table units per sample
  float feed_ = 0.0f;             // feedback * 512
  float mul_ = 1.0f;
  std::uint32_t channels_;
  std::uint32_t max_block_frames_;
  std::vector<float> stream_;       // one oscillator's block
  std::vector<float> accumulator_;  // channels x max_block_frames, planar
};

}  // namespace synthfarm
