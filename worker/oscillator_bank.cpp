#include "worker/oscillator_bank.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <memory>
#include <new>
#include <stdexcept>
#include <vector>

#include "shared/linear_ramp.h"
#include "shared/sine_loop.h"
#include "worker/sineloop_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

namespace synthfarm {
namespace {

// The kernels' arrays start on a 64-byte boundary (HWY_ALIGNMENT, what hwy::AllocateAligned
// gave): aligned loads and stores for every target up to AVX-512. Our own allocation rather than
// Highway's, which lives in libhwy.so: loading that library costs every worker a static
// initializer (see shared/simd_target.cpp).
constexpr std::align_val_t kKernelAlignment{64};

struct AlignedDelete {
  void operator()(void* memory) const noexcept { ::operator delete[](memory, kKernelAlignment); }
};

template <typename T>
using AlignedArray = std::unique_ptr<T[], AlignedDelete>;
using AlignedFloats = AlignedArray<float>;

// Thread: control (allocates; throws std::bad_alloc). `count` values (at least one), zeroed.
template <typename T>
AlignedArray<T> aligned_zeroed(std::size_t count) {
  count = std::max<std::size_t>(count, 1);
  AlignedArray<T> array(static_cast<T*>(::operator new[](count * sizeof(T), kKernelAlignment)));
  std::fill_n(array.get(), count, T{});
  return array;
}

AlignedFloats zeroed_floats(std::size_t count) {
  return aligned_zeroed<float>(count);
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
  AlignedArray<std::uint64_t> table_pairs;  // exact: table[k], table[k+1] - table[k]
  AlignedFloats scratch;                    // exact: one slab of a group of vectors
  AlignedFloats lane_sums;                  // fast: per frame, per lane
  AlignedFloats sums;                       // per channel, per frame

  double sample_rate_hz;
  float unit;                           // of phase and increment: 1 (exact) or 1/512 (fast)
  std::vector<std::size_t> first_lane;  // per channel: its first lane in phase/last/increment

  float feed = 0.0f;      // exact: feedback * 512
  float feedback = 0.0f;  // the clipped float32 feedback in use (fast uses it directly)
  // The mul in use, and its ramp (ramp_mul_to): value() is the last frame's mul; at rest, the
  // mul the kernel renders with.
  LinearRamp mul{1, 1.0f};

  // Feedback glide (glide_feedback_to): step `glide_step` of `glide_steps` is in use for
  // another `glide_frames_left` frames. No glide while glide_steps == 0.
  float glide_from = 0.0f;
  float glide_to = 0.0f;
  std::uint32_t glide_steps = 0;
  std::uint32_t glide_step = 0;
  std::uint32_t glide_frames_left = 0;
  std::uint32_t steps_per_glide = 1;

  void use_feedback(float clipped) noexcept {
    feedback = clipped;
    feed = clipped * 512.0f;  // exact: sineloop_feed's product, a power of two: no rounding
  }
  // RT-safe (no allocation). Each oscillator's increment from its frequency, and each
  // channel's choice of phase wrap, which depends on all of its increments.
  void store_increments(std::span<const double> frequencies_hz) noexcept;
  // Renders `frames` frames with the feedback in use and `mul_value`, interleaved into `out`.
  void render_span(float* out, std::uint32_t frames, float mul_value) noexcept;
  // Scales `frames` (<= what is left of the ramp) interleaved frames, rendered with mul 1, by
  // the ramp's next gains, and moves the ramp on.
  void apply_mul_ramp(float* out, std::uint32_t frames) noexcept;
};

namespace {

// What set_feedback and glide_feedback_to aim for: pyo's clip of the float32 value. The exact
// kernel's table reads stay in bounds only for a feed in [0, 512]: NaN is 0.
float clipped_feedback(double feedback) noexcept {
  return std::isnan(feedback) ? 0.0f : sineloop_feed(feedback) / 512.0f;
}

}  // namespace

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
  s.sample_rate_hz = sample_rate_hz;
  s.steps_per_glide = std::max<std::uint32_t>(
      1, static_cast<std::uint32_t>(
             std::lround(kFeedbackGlideSeconds * sample_rate_hz / kFeedbackGlideStepFrames)));
  s.mul = LinearRamp(static_cast<std::uint32_t>(std::lround(kMulRampSeconds * sample_rate_hz)),
                     static_cast<float>(mul));

  // Channel c holds oscillators c, c + channels, ... in index order, padded to whole slots.
  std::vector<std::size_t> per_channel(s.channels, 0);
  for (std::size_t k = 0; k < s.oscillators; ++k) ++per_channel[k % s.channels];
  s.first_lane.assign(s.channels, 0);
  std::size_t total_lanes = 0;
  for (std::uint32_t c = 0; c < s.channels; ++c) {
    s.first_lane[c] = total_lanes;
    total_lanes += round_up(per_channel[c], kernels::kSlotLanes);
  }
  s.phase = zeroed_floats(total_lanes);
  s.last = zeroed_floats(total_lanes);
  s.increment = zeroed_floats(total_lanes);
  // Exact works in pyo's table units; fast in turns, the same values divided by 512 exactly.
  s.unit = kernel == KernelKind::kExact ? 1.0f : 1.0f / 512.0f;
  for (std::uint32_t c = 0; c < s.channels; ++c) {
    const std::size_t lanes = round_up(per_channel[c], kernels::kSlotLanes);
    s.lanes.push_back({s.phase.get() + s.first_lane[c], s.last.get() + s.first_lane[c],
                       s.increment.get() + s.first_lane[c], lanes / kernels::kSlotLanes,
                       per_channel[c], true});
  }
  s.store_increments(frequencies_hz);

  const auto& table = sine_table();
  s.table_pairs = aligned_zeroed<std::uint64_t>(kernels::kTablePairs);
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
  state_->glide_steps = 0;
  state_->use_feedback(clipped_feedback(feedback));
}

void OscillatorBank::set_mul(double mul) noexcept {
  state_->mul.jump_to(static_cast<float>(mul));
}

void OscillatorBank::glide_feedback_to(double feedback) noexcept {
  State& s = *state_;
  s.glide_from = s.feedback;  // wherever a glide in progress has got to
  s.glide_to = clipped_feedback(feedback);
  s.glide_steps = s.steps_per_glide;
  s.glide_step = 0;
  s.glide_frames_left = 0;  // the first step starts with the next frame
}

void OscillatorBank::ramp_mul_to(double mul) noexcept {
  State& s = *state_;
  s.mul.restart_towards(static_cast<float>(mul));  // from wherever a ramp has got to
}

bool OscillatorBank::set_frequencies(std::span<const double> frequencies_hz) noexcept {
  State& s = *state_;
  if (frequencies_hz.size() != s.oscillators) return false;
  s.store_increments(frequencies_hz);
  if (s.kernel == KernelKind::kExact) {
    // The exact kernel's cheaper wrap expects a phase in [0, 1024), which a negative or
    // very high old frequency may have left behind. pyo's own wrap, which the next sample
    // begins with anyway, brings it into [0, 512] and changes no phase already in range
    // (nor the next sample's bits, for a phase in [512, 1024)).
    for (const kernels::ChannelLanes& lanes : s.lanes) {
      for (std::size_t i = 0; i < lanes.slots * kernels::kSlotLanes; ++i) {
        lanes.phase[i] = wrap_table_position(lanes.phase[i]);
      }
    }
  }
  return true;
}

std::uint32_t OscillatorBank::feedback_glide_steps() const noexcept {
  return state_->steps_per_glide;
}

std::uint32_t OscillatorBank::mul_ramp_frames() const noexcept {
  return state_->mul.frames();
}

void OscillatorBank::State::store_increments(std::span<const double> frequencies_hz) noexcept {
  for (std::size_t k = 0; k < oscillators; ++k) {
    const float value = sineloop_increment(frequencies_hz[k], sample_rate_hz);
    // A non-finite frequency would send the table read out of bounds: it plays silence.
    increment[first_lane[k % channels] + k / channels] = std::isfinite(value) ? value * unit : 0.0f;
  }
  for (kernels::ChannelLanes& channel : lanes) {
    channel.forward_increments =
        std::all_of(channel.increment, channel.increment + channel.slots * kernels::kSlotLanes,
                    [&](float value) { return value >= 0.0f && value < 512.0f * unit; });
  }
}

void OscillatorBank::State::render_span(float* out, std::uint32_t frames,
                                        float mul_value) noexcept {
  for (std::uint32_t c = 0; c < channels; ++c) {
    float* channel_sums = sums.get() + c * sum_frames;
    if (kernel == KernelKind::kExact) {
      std::fill_n(channel_sums, round_up(frames, kernels::kSlabFrames), 0.0f);
      entry.exact(lanes[c],
                  {table_pairs.get(), feed, mul_value, scratch.get(), channel_sums, frames});
    } else {
      entry.fast(lanes[c], {feedback, lane_sums.get(), channel_sums, frames});
      for (std::uint32_t n = 0; n < frames; ++n) channel_sums[n] *= mul_value;
    }
  }
  for (std::uint32_t n = 0; n < frames; ++n) {
    for (std::uint32_t c = 0; c < channels; ++c) {
      out[std::size_t{n} * channels + c] = sums[c * sum_frames + n];
    }
  }
}

void OscillatorBank::State::apply_mul_ramp(float* out, std::uint32_t frames) noexcept {
  for (std::uint32_t n = 0; n < frames; ++n) {
    const float gain = mul.next();  // the target exactly at the ramp's last frame
    float* frame = out + std::size_t{n} * channels;
    for (std::uint32_t c = 0; c < channels; ++c) frame[c] *= gain;
  }
}

void OscillatorBank::render(float* out, std::uint32_t frames) noexcept {
  State& s = *state_;
  frames = std::min(frames, s.max_block_frames);
  if (frames == 0) return;
  if (s.glide_steps == 0 && !s.mul.ramping()) {
    s.render_span(out, frames, s.mul.value());  // the usual case: one span, as always
    return;
  }
  // Spans end where a glide step or the mul ramp ends, so the frames after a ramp render with
  // the new mul in the kernel, exactly as a bank built with it does.
  for (std::uint32_t done = 0; done < frames;) {
    if (s.glide_steps != 0 && s.glide_frames_left == 0) {
      ++s.glide_step;
      const bool last_step = s.glide_step == s.glide_steps;
      const float t = static_cast<float>(s.glide_step) / static_cast<float>(s.glide_steps);
      // lerp is exact at t = 1 and stays within [from, to]: the feed stays in [0, 512].
      s.use_feedback(last_step ? s.glide_to : std::lerp(s.glide_from, s.glide_to, t));
      s.glide_frames_left = kFeedbackGlideStepFrames;
      if (last_step) s.glide_steps = 0;  // the rest renders at the new feedback, as usual
    }
    std::uint32_t span = frames - done;
    if (s.glide_steps != 0) span = std::min(span, s.glide_frames_left);
    float* span_out = out + std::size_t{done} * s.channels;
    if (s.mul.ramping()) {
      span = std::min(span, s.mul.frames_left());
      s.render_span(span_out, span, 1.0f);  // exact: 1 * y is y; the ramp scales the sums
      s.apply_mul_ramp(span_out, span);
    } else {
      s.render_span(span_out, span, s.mul.value());
    }
    s.glide_frames_left -= std::min(span, s.glide_frames_left);
    done += span;
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
