#include "shared/sine_loop.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace synthfarm {
namespace {

std::array<float, kSineTableSize + 2> make_sine_table() {
  std::array<float, kSineTableSize + 2> table{};
  for (std::size_t i = 0; i < kSineTableSize; ++i) {
    // pyo stores literals; rounding the double sine to float32 reproduces all 512 (SINELOOP.md §2).
    table[i] = static_cast<float>(std::sin(2.0 * std::numbers::pi * static_cast<double>(i) /
                                           static_cast<double>(kSineTableSize)));
  }
  table[kSineTableSize] = 0.0f;      // guard point: +0.0, not float32(sin 2pi)
  table[kSineTableSize + 1] = 0.0f;  // padding, read with weight 0 at position 512.0
  return table;
}

}  // namespace

const std::array<float, kSineTableSize + 2>& sine_table() noexcept {
  static const std::array<float, kSineTableSize + 2> table = make_sine_table();
  return table;
}

float sineloop_increment(double frequency_hz, double sample_rate_hz) noexcept {
  const float frequency = static_cast<float>(frequency_hz);
  return static_cast<float>(static_cast<double>(frequency * 512.0f) / sample_rate_hz);
}

float sineloop_feed(double feedback) noexcept {
  const float clipped = std::clamp(static_cast<float>(feedback), 0.0f, 1.0f);
  return clipped * 512.0f;
}

float wrap_table_position(float position) noexcept {
  // pyo multiplies by ONE_OVER_512 (exact) and truncates to int; the int product is converted
  // back to float by the += / -=. Keep that order: the add branch may round (SINELOOP.md §4).
  constexpr float kOneOver512 = 1.0f / 512.0f;
  if (position < 0.0f) {
    position += static_cast<float>((static_cast<int>(-position * kOneOver512) + 1) * 512);
  } else if (position >= 512.0f) {
    position -= static_cast<float>(static_cast<int>(position * kOneOver512) * 512);
  }
  return position;
}

SineLoopGroup::SineLoopGroup(std::span<const double> frequencies_hz, double sample_rate_hz,
                             double feedback, double mul, std::uint32_t channels,
                             std::uint32_t max_block_frames)
    : phase_(frequencies_hz.size(), 0.0f),
      last_(frequencies_hz.size(), 0.0f),
      increment_(frequencies_hz.size()),
      channels_(std::max<std::uint32_t>(channels, 1)),
      max_block_frames_(max_block_frames),
      stream_(max_block_frames),
      accumulator_(std::size_t{channels_} * max_block_frames) {
  for (std::size_t k = 0; k < frequencies_hz.size(); ++k) {
    increment_[k] = sineloop_increment(frequencies_hz[k], sample_rate_hz);
  }
  set_feedback(feedback);
  set_mul(mul);
}

void SineLoopGroup::set_feedback(double feedback) noexcept {
  feed_ = sineloop_feed(feedback);
}

void SineLoopGroup::set_mul(double mul) noexcept {
  mul_ = static_cast<float>(mul);
}

void SineLoopGroup::render(float* out, std::uint32_t frames) noexcept {
  frames = std::min(frames, max_block_frames_);
  const float* table = sine_table().data();
  for (std::uint32_t c = 0; c < channels_; ++c) {
    std::fill_n(accumulator_.begin() + c * std::size_t{max_block_frames_}, frames, 0.0f);
  }
  const float feed = feed_;
  const float mul = mul_;
  float* stream = stream_.data();
  for (std::size_t k = 0; k < phase_.size(); ++k) {
    float phase = phase_[k];
    float last = last_[k];
    const float increment = increment_[k];
    for (std::uint32_t n = 0; n < frames; ++n) {
      // Read, then increment (SINELOOP.md §4). Every line is one float32 rounding; no FMA.
      phase = wrap_table_position(phase);
      const float position = wrap_table_position(phase + last * feed);
      const int index = static_cast<int>(position);
      const float fraction = position - static_cast<float>(index);
      const float a = table[index];
      const float b = table[index + 1];
      const float y = a + (b - a) * fraction;
      stream[n] = y;
      last = y;
      phase = phase + increment;
    }
    phase_[k] = phase;
    last_[k] = last;
    if (mul != 1.0f) {  // pyo skips mul/add when mul == 1 and add == 0 (SINELOOP.md §5)
      for (std::uint32_t n = 0; n < frames; ++n) stream[n] = mul * stream[n];
    }
    float* sum = accumulator_.data() + (k % channels_) * std::size_t{max_block_frames_};
    for (std::uint32_t n = 0; n < frames; ++n) sum[n] = sum[n] + stream[n];
  }
  for (std::uint32_t n = 0; n < frames; ++n) {
    for (std::uint32_t c = 0; c < channels_; ++c) {
      out[std::size_t{n} * channels_ + c] = accumulator_[c * std::size_t{max_block_frames_} + n];
    }
  }
}

}  // namespace synthfarm
