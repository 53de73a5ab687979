#include "worker/oscillator_bank.h"

#include <hwy/aligned_allocator.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "shared/sine_loop.h"
#include "worker/sineloop_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

namespace synthfarm {
namespace {

using AlignedFloats = hwy::AlignedFreeUniquePtr<float[]>;

AlignedFloats zeroed_floats(std::size_t count) {
  AlignedFloats floats = hwy::AllocateAligned<float>(std::max<std::size_t>(count, 1));
  if (!floats) throw std::bad_alloc();
  std::fill_n(floats.get(), std::max<std::size_t>(count, 1), 0.0f);
  return floats;
}

std::size_t round_up(std::size_t value, std::size_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

}  // namespace

struct OscillatorBank::State {
  KernelKind kernel;
  SimdTarget target;
  kernels::KernelEntry entry;
  std::uint32_t channels;
  std::uint32_t max_block_frames;
  std::size_t oscillators;
  std::size_t sum_frames;  // per channel, max_block_frames rounded up to a slab

  std::vector<kernels::ChannelLanes> lanes;  // one per channel
  AlignedFloats phase;
  AlignedFloats last;
  AlignedFloats increment;
  hwy::AlignedFreeUniquePtr<std::uint64_t[]> table_pairs;  // exact: table[k], table[k+1] - table[k]
  AlignedFloats scratch;                                   // exact: one slab of a group of vectors
  AlignedFloats lane_sums;                                 // fast: per frame, per lane
  AlignedFloats sums;                                      // per channel, per frame

  float feed = 0.0f;      // exact: feedback * 512
  float feedback = 0.0f;  // fast: clipped feedback
  float mul = 1.0f;
};

OscillatorBank::OscillatorBank(std::span<const double> frequencies_hz, double sample_rate_hz,
                               double feedback, double mul, std::uint32_t channels,
                               std::uint32_t max_block_frames, KernelKind kernel, SimdTarget target)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.kernel = kernel;
  s.target = target;
  s.entry = kernels::kernel_entry(target.highway_target);
  if (!s.entry.exact || !s.entry.fast) {
    throw std::invalid_argument("SIMD target '" + std::string(target.name) +
                                "' is not compiled into this build");
  }
  s.channels = std::max<std::uint32_t>(channels, 1);
  s.max_block_frames = max_block_frames;
  s.oscillators = frequencies_hz.size();
  s.sum_frames = round_up(std::max<std::uint32_t>(max_block_frames, 1), kernels::kSlabFrames);

  // Channel c holds oscillators c, c + channels, ... in index order, padded to whole slots.
  std::vector<std::size_t> per_channel(s.channels, 0);
  for (std::size_t k = 0; k < s.oscillators; ++k) ++per_channel[k % s.channels];
  std::vector<std::size_t> first_lane(s.channels, 0);
  std::size_t total_lanes = 0;
  for (std::uint32_t c = 0; c < s.channels; ++c) {
    first_lane[c] = total_lanes;
    total_lanes += round_up(per_channel[c], kernels::kSlotLanes);
  }
  s.phase = zeroed_floats(total_lanes);
  s.last = zeroed_floats(total_lanes);
  s.increment = zeroed_floats(total_lanes);
  // Exact works in pyo's table units; fast in turns, the same values divided by 512 exactly.
  const float unit = kernel == KernelKind::kExact ? 1.0f : 1.0f / 512.0f;
  for (std::size_t k = 0; k < s.oscillators; ++k) {
    const float increment = sineloop_increment(frequencies_hz[k], sample_rate_hz);
    // A non-finite frequency would send the table read out of bounds: it plays silence.
    s.increment[first_lane[k % s.channels] + k / s.channels] =
        std::isfinite(increment) ? increment * unit : 0.0f;
  }
  for (std::uint32_t c = 0; c < s.channels; ++c) {
    const std::size_t lanes = round_up(per_channel[c], kernels::kSlotLanes);
    const float* increments = s.increment.get() + first_lane[c];
    const bool forward = std::all_of(increments, increments + lanes, [&](float increment) {
      return increment >= 0.0f && increment < 512.0f * unit;
    });
    s.lanes.push_back({s.phase.get() + first_lane[c], s.last.get() + first_lane[c], increments,
                       lanes / kernels::kSlotLanes, per_channel[c], forward});
  }

  const auto& table = sine_table();
  s.table_pairs = hwy::AllocateAligned<std::uint64_t>(kernels::kTablePairs);
  if (!s.table_pairs) throw std::bad_alloc();
  for (std::size_t i = 0; i < kernels::kTablePairs; ++i) {
    const std::size_t k = i % kSineTableSize;
    const float step = table[k + 1] - table[k];  // pyo's (b - a), rounded once as pyo does
    s.table_pairs[i] = std::uint64_t{std::bit_cast<std::uint32_t>(step)} << 32 |
                       std::bit_cast<std::uint32_t>(table[k]);
  }
  s.scratch = zeroed_floats(kernels::kExactScratchFloats);
  s.lane_sums = zeroed_floats(std::size_t{s.max_block_frames} * kernels::kSlotLanes);
  s.sums = zeroed_floats(s.sum_frames * s.channels);

  set_feedback(feedback);
  set_mul(mul);
}

OscillatorBank::~OscillatorBank() = default;

std::size_t OscillatorBank::size() const noexcept {
  return state_->oscillators;
}
std::uint32_t OscillatorBank::channels() const noexcept {
  return state_->channels;
}
KernelKind OscillatorBank::kernel() const noexcept {
  return state_->kernel;
}
SimdTarget OscillatorBank::target() const noexcept {
  return state_->target;
}

void OscillatorBank::set_feedback(double feedback) noexcept {
  // The exact kernel's table reads stay in bounds only for a feed in [0, 512]: NaN is 0.
  state_->feed = std::isnan(feedback) ? 0.0f : sineloop_feed(feedback);
  state_->feedback = state_->feed / 512.0f;  // exact: the clipped float32 feedback
}

void OscillatorBank::set_mul(double mul) noexcept {
  state_->mul = static_cast<float>(mul);
}

void OscillatorBank::render(float* out, std::uint32_t frames) noexcept {
  State& s = *state_;
  frames = std::min(frames, s.max_block_frames);
  for (std::uint32_t c = 0; c < s.channels; ++c) {
    float* sums = s.sums.get() + c * s.sum_frames;
    if (s.kernel == KernelKind::kExact) {
      std::fill_n(sums, round_up(frames, kernels::kSlabFrames), 0.0f);
      s.entry.exact(s.lanes[c],
                    {s.table_pairs.get(), s.feed, s.mul, s.scratch.get(), sums, frames});
    } else {
      s.entry.fast(s.lanes[c], {s.feedback, s.lane_sums.get(), sums, frames});
      for (std::uint32_t n = 0; n < frames; ++n) sums[n] *= s.mul;
    }
  }
  for (std::uint32_t n = 0; n < frames; ++n) {
    for (std::uint32_t c = 0; c < s.channels; ++c) {
      out[std::size_t{n} * s.channels + c] = s.sums[c * s.sum_frames + n];
    }
  }
}

bool enable_flush_to_zero() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  constexpr unsigned kFlushToZero = 0x8000;     // MXCSR bit 15
  constexpr unsigned kDenormalsAreZero = 0x40;  // MXCSR bit 6
  _mm_setcsr(_mm_getcsr() | kFlushToZero | kDenormalsAreZero);
  return true;
#else
  return false;
#endif
}

}  // namespace synthfarm
