// The SineLoop kernels for every Highway target. foreach_target.h compiles this file once per
// target (AVX-512, AVX2, SSE4, SSSE3, and a portable one: scalar with GCC 12, emu128 later);
// kernel_entry() at the end hands out the set for the target the user chose.
//
// Both kernels put oscillators in vector lanes and run G vectors side by side per sample: one
// oscillator's samples form a dependency chain (each reads the previous one through the
// feedback), so a single vector would wait on latency; G independent chains fill the pipes.

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "worker/sineloop_kernels.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>

#include "worker/sineloop_kernels.h"

HWY_BEFORE_NAMESPACE();
namespace synthfarm::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using D = hn::ScalableTag<float>;
using V = hn::Vec<D>;
using DI = hn::RebindToSigned<D>;

constexpr std::size_t kLanes = HWY_LANES(float);
static_assert((kLanes == 1 || kLanes >= 4) && kSlotLanes % kLanes == 0 &&
              kSlabFrames % kLanes == 0);

// Vectors in flight per sample. The fast kernel is latency-bound below 8 (one sample's chain
// is about 40 cycles: AVX2 went from 0.41 to 0.24 ns per oscillator-sample going from 4 to 8,
// spills included); the exact one is bound by its gathers, and 8 or 4 make no difference.
constexpr std::size_t kExactGroup = HWY_TARGET == HWY_AVX3 ? 8 : 4;
constexpr std::size_t kFastGroup = 8;
static_assert(kExactGroup * kSlabFrames * kLanes <= kExactScratchFloats);

// pyo's Sine_clip (SINELOOP.md §4), branch-free. x - 512*trunc(x/512) is exact (the product is a
// multiple of 512 below 2^33 and the difference fits in 24 bits), so a fused or unfused
// NegMulAdd give the same bits; the one rounding pyo does, in x + 512*(trunc(-x/512) + 1) for
// negative x, happens here in the final Add.
HWY_INLINE V WrapTablePosition(D d, V x) {
  const V k512 = hn::Set(d, 512.0f);
  const V whole_tables = hn::Trunc(hn::Mul(x, hn::Set(d, 1.0f / 512.0f)));
  const V remainder = hn::NegMulAdd(whole_tables, k512, x);
  return hn::Add(remainder, hn::IfThenElseZero(hn::Lt(x, hn::Zero(d)), k512));
}

// The same wrap when x is known to lie in [0, 1024): the phase of an oscillator whose increment
// is in [0, 512), i.e. any frequency from 0 up to (not including) the sample rate.
HWY_INLINE V WrapForwardPosition(D d, V x) {
  const V k512 = hn::Set(d, 512.0f);
#if HWY_TARGET == HWY_AVX3
  // One masked subtraction; Highway 1.0 has no masked arithmetic.
  return V{_mm512_mask_sub_ps(x.raw, hn::Ge(x, k512).raw, x.raw, k512.raw)};
#else
  return hn::Sub(x, hn::IfThenElseZero(hn::Ge(x, k512), k512));  // exact for x in [512, 1024)
#endif
}

// pyo's wrap of a negative read position: add 512, rounding once (see ExactVectors).
HWY_INLINE V LiftNegativePosition(D d, V x) {
  const V k512 = hn::Set(d, 512.0f);
#if HWY_TARGET == HWY_AVX3
  return V{_mm512_mask_add_ps(x.raw, hn::Lt(x, hn::Zero(d)).raw, x.raw, k512.raw)};
#else
  return hn::Add(x, hn::IfThenElseZero(hn::Lt(x, hn::Zero(d)), k512));
#endif
}

// ---- exact ----------------------------------------------------------------------------------

// Reads pyo's table at `index`: a = table[index], b_minus_a = float32(table[index + 1] -
// table[index]). The two come from one 64-bit entry, so one gather element per lane instead
// of two: gathers cost about a cycle per element, more than the rest of the sample.
HWY_INLINE void ReadTable(D d, const std::uint64_t* HWY_RESTRICT pairs, hn::Vec<DI> index, V& a,
                          V& b_minus_a) {
#if HWY_TARGET == HWY_AVX3
  // Highway 1.0 has no gather of 64-bit lanes by 32-bit indices; AVX-512 does, saving two
  // index widenings per vector.
  const auto table = reinterpret_cast<const long long*>(pairs);
  const __m512i low = _mm512_i32gather_epi64(_mm512_castsi512_si256(index.raw), table, 8);
  const __m512i high = _mm512_i32gather_epi64(_mm512_extracti64x4_epi64(index.raw, 1), table, 8);
  a = hn::ConcatEven(d, hn::BitCast(d, hn::Vec512<std::uint64_t>{high}),
                     hn::BitCast(d, hn::Vec512<std::uint64_t>{low}));
  b_minus_a = hn::ConcatOdd(d, hn::BitCast(d, hn::Vec512<std::uint64_t>{high}),
                            hn::BitCast(d, hn::Vec512<std::uint64_t>{low}));
#elif HWY_TARGET == HWY_SCALAR
  const std::uint64_t pair = pairs[hn::GetLane(index)];
  a = hn::Set(d, std::bit_cast<float>(static_cast<std::uint32_t>(pair)));
  b_minus_a = hn::Set(d, std::bit_cast<float>(static_cast<std::uint32_t>(pair >> 32)));
#else
  const hn::Half<DI> dhalf;
  const hn::Repartition<std::int64_t, D> d64;
  const auto low = hn::GatherIndex(d64, reinterpret_cast<const std::int64_t*>(pairs),
                                   hn::PromoteTo(d64, hn::LowerHalf(dhalf, index)));
  const auto high = hn::GatherIndex(d64, reinterpret_cast<const std::int64_t*>(pairs),
                                    hn::PromoteTo(d64, hn::UpperHalf(dhalf, index)));
  a = hn::ConcatEven(d, hn::BitCast(d, high), hn::BitCast(d, low));
  b_minus_a = hn::ConcatOdd(d, hn::BitCast(d, high), hn::BitCast(d, low));
#endif
}

// Renders `frames` samples of G vectors of oscillators into out[frame][g][lane], exactly as
// SINELOOP.md §4, operation for operation (no FMA: -ffp-contract=off and only Mul/Add below).
template <std::size_t G, bool kForward>
HWY_INLINE void ExactVectors(const std::uint64_t* HWY_RESTRICT table_pairs,
                             float* HWY_RESTRICT phase, float* HWY_RESTRICT last,
                             const float* HWY_RESTRICT increment, float feed_value,
                             std::size_t frames, float* HWY_RESTRICT out) {
  const D d;
  const DI di;
  const V feed = hn::Set(d, feed_value);
  V p[G];
  V y[G];
  for (std::size_t g = 0; g < G; ++g) {
    p[g] = hn::Load(d, phase + g * kLanes);
    y[g] = hn::Load(d, last + g * kLanes);
  }
  for (std::size_t n = 0; n < frames; ++n) {
    for (std::size_t g = 0; g < G; ++g) {
      p[g] = kForward ? WrapForwardPosition(d, p[g]) : WrapTablePosition(d, p[g]);
      const V read = hn::Add(p[g], hn::Mul(y[g], feed));
      // |y| <= 1 and 0 <= feed <= 512 keep `read` within [-512, 1024]. There pyo's wrap rounds
      // only when it adds 512 to a negative read (done here the same way); subtracting 512 from
      // a read >= 512 is exact, so floor and fraction can be taken first and the table repeats
      // itself up to index 1024 instead. At the edges (-512, 512, 1024) pyo reads entry 0 or
      // 512 with weight 0: both give 0.
      const V position = LiftNegativePosition(d, read);
#if HWY_TARGET == HWY_AVX3
      // VREDUCEPS gives position - floor(position) (exact) in one instruction, and the
      // conversion can round down itself: two instructions instead of three.
      const V fraction{_mm512_reduce_ps(position.raw, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)};
      const hn::Vec<DI> index{
          _mm512_cvt_roundps_epi32(position.raw, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)};
#else
      const V whole = hn::Floor(position);
      const V fraction = hn::Sub(position, whole);
      const auto index = hn::ConvertTo(di, whole);
#endif
      V a;
      V b_minus_a;
      ReadTable(d, table_pairs, index, a, b_minus_a);
      y[g] = hn::Add(a, hn::Mul(b_minus_a, fraction));
      hn::Store(y[g], d, out + (n * G + g) * kLanes);
      p[g] = hn::Add(p[g], hn::Load(d, increment + g * kLanes));
    }
  }
  for (std::size_t g = 0; g < G; ++g) {
    hn::Store(p[g], d, phase + g * kLanes);
    hn::Store(y[g], d, last + g * kLanes);
  }
}

// In-register transpose: m[i] holds frame i of kLanes oscillators; afterwards m[j] holds
// oscillator j's kLanes frames. 4x4 inside each 128-bit block, then whole blocks (AVX2: halves;
// AVX-512: pairs of blocks, then halves).
HWY_INLINE void Transpose([[maybe_unused]] D d, [[maybe_unused]] V (&m)[kLanes]) {
#if HWY_TARGET != HWY_SCALAR
  const hn::Repartition<std::uint64_t, D> d64;
  const auto lower64 = [&](V a, V b) {
    return hn::BitCast(d, hn::InterleaveLower(d64, hn::BitCast(d64, a), hn::BitCast(d64, b)));
  };
  const auto upper64 = [&](V a, V b) {
    return hn::BitCast(d, hn::InterleaveUpper(d64, hn::BitCast(d64, a), hn::BitCast(d64, b)));
  };
  V c[kLanes];
  for (std::size_t r = 0; r < kLanes; r += 4) {
    const V t0 = hn::InterleaveLower(d, m[r], m[r + 1]);
    const V t1 = hn::InterleaveLower(d, m[r + 2], m[r + 3]);
    const V t2 = hn::InterleaveUpper(d, m[r], m[r + 1]);
    const V t3 = hn::InterleaveUpper(d, m[r + 2], m[r + 3]);
    // c[r + j], block b: column 4b + j of rows r..r+3.
    c[r + 0] = lower64(t0, t1);
    c[r + 1] = upper64(t0, t1);
    c[r + 2] = lower64(t2, t3);
    c[r + 3] = upper64(t2, t3);
  }
#if HWY_MAX_BYTES == 16
  for (std::size_t j = 0; j < 4; ++j) m[j] = c[j];
#elif HWY_MAX_BYTES == 32
  for (std::size_t j = 0; j < 4; ++j) {
    m[j] = hn::ConcatLowerLower(d, c[4 + j], c[j]);
    m[4 + j] = hn::ConcatUpperUpper(d, c[4 + j], c[j]);
  }
#elif HWY_MAX_BYTES == 64
  for (std::size_t j = 0; j < 4; ++j) {
    // Blocks of rows 0-3 and 4-7 paired: [c0.0 c1.0 c0.2 c1.2] and [c0.1 c1.1 c0.3 c1.3].
    const V low01 = hn::OddEvenBlocks(hn::SwapAdjacentBlocks(c[4 + j]), c[j]);
    const V high01 = hn::OddEvenBlocks(c[4 + j], hn::SwapAdjacentBlocks(c[j]));
    const V low23 = hn::OddEvenBlocks(hn::SwapAdjacentBlocks(c[12 + j]), c[8 + j]);
    const V high23 = hn::OddEvenBlocks(c[12 + j], hn::SwapAdjacentBlocks(c[8 + j]));
    m[j] = hn::ConcatLowerLower(d, low23, low01);
    m[8 + j] = hn::ConcatUpperUpper(d, low23, low01);
    m[4 + j] = hn::ConcatLowerLower(d, high23, high01);
    m[12 + j] = hn::ConcatUpperUpper(d, high23, high01);
  }
#else
#error "Transpose: unexpected vector size"
#endif
#endif  // HWY_TARGET != HWY_SCALAR
}

// Adds G vectors' samples (out[frame][g][lane]) to sums[frame], oscillator by oscillator in
// index order, as pyo's sequential per-channel sum (SINELOOP.md §8). `oscillators` counts the real
// lanes from the first vector on; padding lanes are skipped, not added.
template <std::size_t G>
HWY_INLINE void AccumulateExact(const float* HWY_RESTRICT out, std::size_t frames,
                                std::size_t oscillators, float mul_value,
                                float* HWY_RESTRICT sums) {
  const D d;
  const V mul = hn::Set(d, mul_value);
  for (std::size_t first = 0; first < frames; first += kLanes) {
    V sum = hn::Load(d, sums + first);
    for (std::size_t g = 0; g < G && g * kLanes < oscillators; ++g) {
      V m[kLanes];
      for (std::size_t i = 0; i < kLanes; ++i) {
        m[i] = hn::Load(d, out + ((first + i) * G + g) * kLanes);
      }
      Transpose(d, m);
      const std::size_t real = std::min(kLanes, oscillators - g * kLanes);
      // mul * y is exact y when pyo would skip mul (mul == 1).
      for (std::size_t j = 0; j < real; ++j) sum = hn::Add(sum, hn::Mul(mul, m[j]));
    }
    hn::Store(sum, d, sums + first);
  }
}

template <std::size_t G>
HWY_NOINLINE void ExactChunk(const ChannelLanes& lanes, const ExactBlock& block,
                             std::size_t first_vector, std::size_t first_frame,
                             std::size_t frames) {
  const std::size_t offset = first_vector * kLanes;
  if (lanes.forward_increments) {
    ExactVectors<G, true>(block.table_pairs, lanes.phase + offset, lanes.last + offset,
                          lanes.increment + offset, block.feed, frames, block.scratch);
  } else {
    ExactVectors<G, false>(block.table_pairs, lanes.phase + offset, lanes.last + offset,
                           lanes.increment + offset, block.feed, frames, block.scratch);
  }
  AccumulateExact<G>(block.scratch, frames, lanes.oscillators - offset, block.mul,
                     block.sums + first_frame);
}

template <std::size_t G>
void ExactChunkOfSize(std::size_t vectors, const ChannelLanes& lanes, const ExactBlock& block,
                      std::size_t first_vector, std::size_t first_frame, std::size_t frames) {
  if constexpr (G > 1) {
    if (vectors < G) {
      ExactChunkOfSize<G - 1>(vectors, lanes, block, first_vector, first_frame, frames);
      return;
    }
  }
  ExactChunk<G>(lanes, block, first_vector, first_frame, frames);
}

void RenderExact(const ChannelLanes& lanes, const ExactBlock& block) {
  const std::size_t vectors = (lanes.oscillators + kLanes - 1) / kLanes;  // skip padding-only
  for (std::size_t first_frame = 0; first_frame < block.frames; first_frame += kSlabFrames) {
    const std::size_t frames = std::min<std::size_t>(kSlabFrames, block.frames - first_frame);
    for (std::size_t v = 0; v < vectors; v += kExactGroup) {
      ExactChunkOfSize<kExactGroup>(std::min(kExactGroup, vectors - v), lanes, block, v,
                                    first_frame, frames);
    }
  }
}

// ---- fast -----------------------------------------------------------------------------------

HWY_INLINE V FastSine(D d, V u) {
  const V u2 = hn::Mul(u, u);
  V p = hn::Set(d, kFastSineCoefficients[5]);
  p = hn::MulAdd(p, u2, hn::Set(d, kFastSineCoefficients[4]));
  p = hn::MulAdd(p, u2, hn::Set(d, kFastSineCoefficients[3]));
  p = hn::MulAdd(p, u2, hn::Set(d, kFastSineCoefficients[2]));
  p = hn::MulAdd(p, u2, hn::Set(d, kFastSineCoefficients[1]));
  p = hn::MulAdd(p, u2, hn::Set(d, kFastSineCoefficients[0]));
  return hn::Mul(p, u);
}

// Phase in turns (pyo's ptr / 512, exactly: scaling by a power of two commutes with rounding),
// wrapped each sample as pyo wraps it; the read position needs no wrap of its own, because the
// sine reduces t - round(t) into [-1/2, 1/2] exactly.
template <std::size_t G>
HWY_NOINLINE void FastChunk(float* HWY_RESTRICT phase, float* HWY_RESTRICT last,
                            const float* HWY_RESTRICT increment, float feedback_value,
                            std::size_t frames, bool first_chunk, float* HWY_RESTRICT lane_sums) {
  const D d;
  const V feedback = hn::Set(d, feedback_value);
  V p[G];
  V y[G];
  V step[G];
  for (std::size_t g = 0; g < G; ++g) {
    p[g] = hn::Load(d, phase + g * kLanes);
    y[g] = hn::Load(d, last + g * kLanes);
    step[g] = hn::Load(d, increment + g * kLanes);
  }
  for (std::size_t n = 0; n < frames; ++n) {
    for (std::size_t g = 0; g < G; ++g) {
      p[g] = hn::Sub(p[g], hn::Floor(p[g]));
      const V t = hn::MulAdd(y[g], feedback, p[g]);
      y[g] = FastSine(d, hn::Sub(t, hn::Round(t)));
      p[g] = hn::Add(p[g], step[g]);
    }
    // Pairwise, so the sum adds a short chain, not G additions in a row.
    V pair[G];
    std::size_t count = G;
    for (std::size_t g = 0; g < G; ++g) pair[g] = y[g];
    while (count > 1) {
      for (std::size_t g = 0; g < count / 2; ++g) pair[g] = hn::Add(pair[2 * g], pair[2 * g + 1]);
      if (count % 2) pair[count / 2] = pair[count - 1];
      count = (count + 1) / 2;
    }
    float* sum = lane_sums + n * kLanes;
    hn::Store(first_chunk ? pair[0] : hn::Add(hn::Load(d, sum), pair[0]), d, sum);
  }
  for (std::size_t g = 0; g < G; ++g) {
    hn::Store(p[g], d, phase + g * kLanes);
    hn::Store(y[g], d, last + g * kLanes);
  }
}

template <std::size_t G>
void FastChunkOfSize(std::size_t vectors, const ChannelLanes& lanes, const FastBlock& block,
                     std::size_t first_vector) {
  if constexpr (G > 1) {
    if (vectors < G) {
      FastChunkOfSize<G - 1>(vectors, lanes, block, first_vector);
      return;
    }
  }
  const std::size_t offset = first_vector * kLanes;
  FastChunk<G>(lanes.phase + offset, lanes.last + offset, lanes.increment + offset, block.feedback,
               block.frames, first_vector == 0, block.lane_sums);
}

void RenderFast(const ChannelLanes& lanes, const FastBlock& block) {
  const D d;
  const std::size_t vectors = (lanes.oscillators + kLanes - 1) / kLanes;
  if (vectors == 0) {
    std::fill_n(block.sums, block.frames, 0.0f);
    return;
  }
  for (std::size_t v = 0; v < vectors; v += kFastGroup) {
    FastChunkOfSize<kFastGroup>(std::min(kFastGroup, vectors - v), lanes, block, v);
  }
  for (std::size_t n = 0; n < block.frames; ++n) {
    block.sums[n] = hn::GetLane(hn::SumOfLanes(d, hn::Load(d, block.lane_sums + n * kLanes)));
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace synthfarm::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace synthfarm::kernels {

KernelEntry kernel_entry(std::int64_t highway_target) {
  switch (highway_target) {
#if HWY_TARGETS & HWY_AVX3
    case HWY_AVX3:
      return {&N_AVX3::RenderExact, &N_AVX3::RenderFast};
#endif
#if HWY_TARGETS & HWY_AVX2
    case HWY_AVX2:
      return {&N_AVX2::RenderExact, &N_AVX2::RenderFast};
#endif
#if HWY_TARGETS & HWY_SSE4
    case HWY_SSE4:
      return {&N_SSE4::RenderExact, &N_SSE4::RenderFast};
#endif
#if HWY_TARGETS & HWY_SSSE3
    case HWY_SSSE3:
      return {&N_SSSE3::RenderExact, &N_SSSE3::RenderFast};
#endif
#if HWY_TARGETS & HWY_EMU128
    case HWY_EMU128:
      return {&N_EMU128::RenderExact, &N_EMU128::RenderFast};
#endif
#if HWY_TARGETS & HWY_SCALAR
    case HWY_SCALAR:
      return {&N_SCALAR::RenderExact, &N_SCALAR::RenderFast};
#endif
    default:
      return {};
  }
}

float fast_sine_turns(float u) noexcept {
  const float u2 = u * u;
  float p = kFastSineCoefficients[5];
  for (int i = 4; i >= 0; --i) p = std::fma(p, u2, kFastSineCoefficients[i]);
  return p * u;
}

}  // namespace synthfarm::kernels
#endif  // HWY_ONCE
