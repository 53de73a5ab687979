#pragma once
// The SIMD SineLoop kernels, one set per instruction set (worker/sineloop_kernels.cpp is
// compiled once per Highway target). OscillatorBank lays out the state and calls them; nothing
// else should.
//
// Layout: each channel's oscillators, in index order, padded with silent ones to whole 16-lane
// slots (64 bytes: one AVX-512 vector, two AVX2 vectors, four SSE vectors). The layout is the
// same on every target, so a bank can be compared across targets.

#include <cstddef>
#include <cstdint>

namespace synthfarm::kernels {

inline constexpr std::size_t kSlotLanes = 16;
// Frames the exact kernel renders before it folds them into the channel sum: 32 frames of 8
// vectors of 16 lanes stay in L1 (16 KiB).
inline constexpr std::size_t kSlabFrames = 32;
inline constexpr std::size_t kTablePairs = 1025;
inline constexpr std::size_t kExactScratchFloats = 8 * kSlabFrames * kSlotLanes;

// One channel's oscillators.
struct ChannelLanes {
  float* phase;             // exact: pyo's ptr in table units; fast: the same divided by 512
  float* last;              // previous output sample, before mul
  const float* increment;   // per sample, in the same unit as phase
  std::size_t slots;        // 16-lane slots
  std::size_t oscillators;  // real ones, first in the slots; the rest are padding (0 Hz)
  bool forward_increments;  // every increment in [0, 512) table units: a cheaper phase wrap
};

struct ExactBlock {
  // 512 entries: low half the bits of pyo's table[k] (shared/sine_loop.h), high half those of
  // float32(table[k + 1] - table[k]), pyo's (b - a); kTablePairs entries, entry k + 512 equal
  // to entry k, so that read positions up to 1024 need no wrap (see the .cpp).
  const std::uint64_t* table_pairs;
  float feed;  // feedback * 512
  float mul;
  float* scratch;  // kExactScratchFloats, 64-byte aligned
  float* sums;     // frames rounded up to kSlabFrames; every oscillator is added in index order
  std::uint32_t frames;
};

struct FastBlock {
  float feedback;    // clipped to [0, 1]: phase modulation in turns per unit of output
  float* lane_sums;  // frames x kSlotLanes floats, 64-byte aligned, scratch
  float* sums;       // frames: the channel's sum, before mul (overwritten)
  std::uint32_t frames;
};

using RenderExactFn = void (*)(const ChannelLanes&, const ExactBlock&);
using RenderFastFn = void (*)(const ChannelLanes&, const FastBlock&);

struct KernelEntry {
  RenderExactFn exact = nullptr;
  RenderFastFn fast = nullptr;
};

// The kernels compiled for one Highway target (HWY_AVX3, ...); null functions if it was not
// compiled into this build.
KernelEntry kernel_entry(std::int64_t highway_target);

// Coefficients of fast_sine_turns, lowest power first: y = u * (c0 + c1 u^2 + ... + c5 u^10).
// Fitted (weighted least squares, Lawson iterations, long double) to the scaled sine below;
// max error 1e-7 in exact arithmetic, 7e-7 when evaluated in float32 with FMA.
inline constexpr float kFastSineCoefficients[6] = {
    6.283123493e+00f,  -4.134103394e+01f, 8.159541321e+01f,
    -7.657937622e+01f, 4.120500565e+01f,  -1.227114582e+01f,
};

// (1 - h*h/16) * sin(2 pi u) for |u| <= 0.5, h = 2 pi / 512: a degree-11 odd polynomial.
// The factor splits the linear interpolation's amplitude loss (0 at table points, h*h/8 halfway)
// so the fast kernel stays within 1e-5 of the exact one (see the .cpp).
float fast_sine_turns(float u) noexcept;

}  // namespace synthfarm::kernels
