// SineLoopGroup and its helpers (shared/sine_loop.h) against pyo 1.0.4's own output.
//
// Tolerance: 0, i.e. identical float32 bits. The kernel's contract is to be bit-identical to
// pyo 1.0.4's SineLoop (SINELOOP.md §9); the recurrence feeds its output back into its phase, so
// any rounding difference (an FMA, a double intermediate, a different sum order) would grow
// rather than stay at 1 ulp, and no tolerance above 0 could be justified.

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "shared/sine_loop.h"
#include "tests/support/pyo_vectors.h"

namespace synthfarm {
namespace {

using testing_support::apply_server_fade_in;

// Renders `frames` interleaved frames in calls of `block_frames` (the last one may be short).
std::vector<float> render(SineLoopGroup& group, std::size_t frames, std::uint32_t block_frames) {
  std::vector<float> out(frames * group.channels(), std::numeric_limits<float>::quiet_NaN());
  for (std::size_t done = 0; done < frames; done += block_frames) {
    const auto block =
        static_cast<std::uint32_t>(std::min<std::size_t>(block_frames, frames - done));
    group.render(out.data() + done * group.channels(), block);
  }
  return out;
}

struct Comparison {
  float max_abs_error = 0.0f;
  std::size_t differing_bits = 0;  // samples whose float32 bits differ
  std::size_t first_difference = 0;
};

Comparison compare(const std::vector<float>& actual, const std::vector<float>& expected) {
  Comparison result;
  bool seen = false;
  for (std::size_t i = 0; i < std::min(actual.size(), expected.size()); ++i) {
    const float error = std::fabs(actual[i] - expected[i]);
    if (!(error <= result.max_abs_error)) result.max_abs_error = error;  // NaN sticks
    if (std::bit_cast<std::uint32_t>(actual[i]) != std::bit_cast<std::uint32_t>(expected[i])) {
      ++result.differing_bits;
      if (!seen) result.first_difference = i;
      seen = true;
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// The kernel against pyo, one case per reference vector.

class SineLoopAgainstPyo : public testing::TestWithParam<const char*> {};

TEST_P(SineLoopAgainstPyo, MatchesPyoBitForBitAfterTheServerFadeIn) {
  const std::string name = GetParam();
  const testing_support::PyoVector vector = testing_support::load_pyo_vector(name);
  ASSERT_FALSE(HasFailure()) << "unusable reference vector " << name;
  const nlohmann::json& manifest = vector.manifest;
  const std::vector<float>& expected = vector.samples;
  const std::uint32_t channels = vector.channels;
  const std::size_t frames = vector.frames;
  const double sample_rate_hz = vector.sample_rate_hz;

  SineLoopGroup group(vector.frequencies_hz, sample_rate_hz, vector.feedback, vector.mul, channels,
                      256);
  std::vector<float> actual = render(group, frames, 256);
  const float final_gain = apply_server_fade_in(actual, channels, sample_rate_hz);
  // The helper reproduces the manifest's fade constants exactly.
  const nlohmann::json& fade = manifest.at("server_fade_in");
  EXPECT_EQ(static_cast<int>(0.005 * sample_rate_hz), fade.at("T").get<int>());
  EXPECT_EQ(static_cast<float>(1.0 / fade.at("T").get<int>()),
            static_cast<float>(fade.at("step_float32").get<double>()));
  EXPECT_EQ(final_gain, static_cast<float>(fade.at("final_amp_float32").get<double>()));

  const Comparison comparison = compare(actual, expected);
  EXPECT_EQ(comparison.max_abs_error, 0.0f) << name;
  EXPECT_EQ(comparison.differing_bits, 0u)
      << name << ": first difference at frame " << comparison.first_difference / channels
      << " channel " << comparison.first_difference % channels << ": "
      << actual[comparison.first_difference] << " vs pyo " << expected[comparison.first_difference];
}

INSTANTIATE_TEST_SUITE_P(ReferenceVectors, SineLoopAgainstPyo,
                         testing::Values("single_440_fb0.1", "stereo8_fb0.1", "group500_seed"),
                         [](const testing::TestParamInfo<const char*>& param_info) {
                           std::string name = param_info.param;
                           std::replace(name.begin(), name.end(), '.', '_');
                           return name;
                         });

// ---------------------------------------------------------------------------------------------
// Block-size independence (SINELOOP.md §8: pyo's own output does not depend on buffersize).

TEST(SineLoopGroup, RendersIdenticalBitsWithBlockSizes1And64And100And256) {
  const nlohmann::json manifest = testing_support::load_pyo_manifest("stereo8_fb0.1");
  const auto frequencies_hz = manifest.at("freqs").get<std::vector<double>>();
  constexpr std::size_t kFrames = 12'000;  // not a multiple of 64, 100 or 256
  std::vector<std::vector<float>> renders;
  for (const std::uint32_t block : {256u, 1u, 64u, 100u}) {
    SineLoopGroup group(frequencies_hz, 48000, 0.1, 0.1, 2, 256);
    renders.push_back(render(group, kFrames + 17, block));
  }
  for (std::size_t i = 1; i < renders.size(); ++i) {
    const Comparison comparison = compare(renders[i], renders[0]);
    EXPECT_EQ(comparison.differing_bits, 0u)
        << "render #" << i << " differs first at sample " << comparison.first_difference;
  }
  // And the block-256 render is pyo's (before the fade-in), so all of them are.
  std::vector<float> faded = renders[0];
  faded.resize(kFrames * 2);
  apply_server_fade_in(faded, 2, 48000);
  std::vector<float> expected = testing_support::load_pyo_samples("stereo8_fb0.1");
  expected.resize(kFrames * 2);
  EXPECT_EQ(compare(faded, expected).differing_bits, 0u);
}

TEST(SineLoopGroup, AFeedbackChangeTakesEffectAtTheNextRender) {
  const std::vector<double> frequencies_hz{440.0, 660.0};
  SineLoopGroup reference(frequencies_hz, 48000, 0.1, 1.0, 2, 256);
  SineLoopGroup changed(frequencies_hz, 48000, 0.1, 1.0, 2, 256);
  const std::vector<float> first_reference = render(reference, 256, 256);
  const std::vector<float> first_changed = render(changed, 256, 256);
  EXPECT_EQ(compare(first_changed, first_reference).differing_bits, 0u);
  changed.set_feedback(0.9);
  const std::vector<float> second_reference = render(reference, 256, 256);
  const std::vector<float> second_changed = render(changed, 256, 256);
  EXPECT_GT(compare(second_changed, second_reference).differing_bits, 0u);
}

// ---------------------------------------------------------------------------------------------
// Edge cases (SINELOOP.md §4, §10).

TEST(SineLoopGroup, AZeroHertzOscillatorOutputsExactZerosForAnyFeedback) {
  for (const double feedback : {0.0, 0.1, 1.0}) {
    SineLoopGroup group(std::vector<double>{0.0, 0.0, 0.0}, 48000, feedback, 1.0, 2, 256);
    const std::vector<float> out = render(group, 4096, 256);
    for (std::size_t i = 0; i < out.size(); ++i) {
      ASSERT_EQ(std::bit_cast<std::uint32_t>(out[i]), 0u)
          << "sample " << i << " is " << out[i] << " at feedback " << feedback;
    }
  }
}

TEST(SineLoopGroup, SampleZeroIsExactlyZeroWhateverTheFrequency) {
  const std::vector<double> frequencies_hz{440.0, 12345.6, -440.0, 24000.0, 47000.0, 100000.7};
  const auto channels = static_cast<std::uint32_t>(frequencies_hz.size());  // one each
  SineLoopGroup group(frequencies_hz, 48000, 1.0, 0.3, channels, 64);
  const std::vector<float> out = render(group, 64, 64);
  for (std::uint32_t c = 0; c < channels; ++c) {
    EXPECT_EQ(out[c], 0.0f) << frequencies_hz[c] << " Hz";
  }
}

TEST(SineLoopGroup, SendsOscillatorKToChannelKModuloChannels) {
  // Three channels, four oscillators: channel 0 gets oscillators 0 and 3.
  const std::vector<double> frequencies_hz{440.0, 550.0, 660.0, 770.0};
  SineLoopGroup group(frequencies_hz, 48000, 0.1, 1.0, 3, 128);
  const std::vector<float> together = render(group, 128, 128);
  std::vector<std::vector<float>> alone;
  for (const double frequency : frequencies_hz) {
    SineLoopGroup single(std::vector<double>{frequency}, 48000, 0.1, 1.0, 1, 128);
    alone.push_back(render(single, 128, 128));
  }
  for (std::size_t n = 0; n < 128; ++n) {
    EXPECT_EQ(together[n * 3 + 0], 0.0f + alone[0][n] + alone[3][n]) << "frame " << n;
    EXPECT_EQ(together[n * 3 + 1], 0.0f + alone[1][n]) << "frame " << n;
    EXPECT_EQ(together[n * 3 + 2], 0.0f + alone[2][n]) << "frame " << n;
  }
}

// 375 Hz at 48 kHz advances exactly 4 table units per sample, so every phase below is an exact
// integer and the comparisons can be exact too.

TEST(SineLoopGroup, AFrequencyAboveTheSampleRateOrBelowMinusItAliasesExactly) {
  // 48375 Hz advances 516 units per sample and -47625 Hz advances -508: the wrap of SINELOOP.md §4
  // brings both back to 375 Hz's phases exactly, so even with feedback the outputs are
  // bit-identical (tolerance 0).
  const std::vector<double> frequencies_hz{375.0, 48375.0, -47625.0};
  ASSERT_EQ(sineloop_increment(48375.0, 48000.0), 516.0f);
  ASSERT_EQ(sineloop_increment(-47625.0, 48000.0), -508.0f);
  SineLoopGroup group(frequencies_hz, 48000, 0.5, 1.0, 3, 256);
  const std::vector<float> out = render(group, 4800, 256);
  for (std::size_t n = 0; n < 4800; ++n) {
    ASSERT_EQ(std::bit_cast<std::uint32_t>(out[n * 3 + 1]),
              std::bit_cast<std::uint32_t>(out[n * 3]))
        << "48375 Hz, frame " << n;
    ASSERT_EQ(std::bit_cast<std::uint32_t>(out[n * 3 + 2]),
              std::bit_cast<std::uint32_t>(out[n * 3]))
        << "-47625 Hz, frame " << n;
  }
}

TEST(SineLoopGroup, ANegativeFrequencyReadsTheTableBackwards) {
  // Without feedback, -375 Hz reads T[(-4n) mod 512] where 375 Hz reads T[4n]. The table is
  // exactly antisymmetric, T[512 - k] == -T[k], except at k = 256, where both read
  // T[256] = 1.2e-16 (SINELOOP.md §2). So the outputs are exact negatives but for those frames.
  const std::vector<double> frequencies_hz{375.0, -375.0};
  SineLoopGroup group(frequencies_hz, 48000, 0.0, 1.0, 2, 256);
  const std::vector<float> out = render(group, 4800, 256);
  const float t256 = sine_table()[256];
  for (std::size_t n = 0; n < 4800; ++n) {
    if ((4 * n) % 512 == 256) {
      ASSERT_EQ(out[n * 2], t256) << "frame " << n;
      ASSERT_EQ(out[n * 2 + 1], t256) << "frame " << n;
    } else {
      ASSERT_EQ(out[n * 2 + 1], -out[n * 2]) << "frame " << n;
    }
  }
}

TEST(SineLoopGroup, ANegativeFrequencyWithFeedbackStaysFiniteAndBounded) {
  // Fractional negative increments take the rounding branch of the wrap (SINELOOP.md §4) all the
  // time.
  SineLoopGroup group(std::vector<double>{-440.0, -12345.6, -100000.7}, 48000, 1.0, 1.0, 3, 256);
  const std::vector<float> out = render(group, 48000, 256);
  for (std::size_t i = 0; i < out.size(); ++i) {
    ASSERT_TRUE(std::isfinite(out[i]) && std::fabs(out[i]) <= 1.0f) << out[i] << " at " << i;
  }
}

TEST(SineLoopGroup, ANyquistOscillatorOutputsOnlyTableRoundingNoise) {
  // inc = 256 exactly: the reads alternate between T[0] = 0 and T[256] = 1.2e-16 (SINELOOP.md §10).
  SineLoopGroup group(std::vector<double>{24000.0}, 48000, 0.1, 1.0, 1, 256);
  for (const float sample : render(group, 1024, 256)) EXPECT_LE(std::fabs(sample), 2e-16f);
}

// ---------------------------------------------------------------------------------------------
// The helpers.

TEST(WrapTablePosition, LeavesPositionsInsideTheTableUnchanged) {
  for (const float position : {0.0f, 0.5f, 255.25f, 511.99997f}) {
    EXPECT_EQ(wrap_table_position(position), position);
  }
}

TEST(WrapTablePosition, TurnsATinyNegativePositionIntoExactly512) {
  // -x/512 truncates to 0, so x + 512 is computed, and rounds to 512 when |x| <= 2^-16.
  EXPECT_EQ(wrap_table_position(-1e-6f), 512.0f);
  EXPECT_EQ(wrap_table_position(-std::ldexp(1.0f, -16)), 512.0f);  // a tie, to even
  EXPECT_EQ(wrap_table_position(-std::numeric_limits<float>::denorm_min()), 512.0f);
  // Just beyond: representable, so no rounding.
  EXPECT_EQ(wrap_table_position(-std::ldexp(1.0f, -15)), 512.0f - std::ldexp(1.0f, -15));
}

TEST(WrapTablePosition, TurnsWholeNegativeMultiplesOf512IntoExactly512) {
  EXPECT_EQ(wrap_table_position(-512.0f), 512.0f);
  EXPECT_EQ(wrap_table_position(-1024.0f), 512.0f);
}

TEST(WrapTablePosition, AddsMultiplesOf512ToOtherNegativePositions) {
  EXPECT_EQ(wrap_table_position(-0.5f), 511.5f);
  EXPECT_EQ(wrap_table_position(-4.75f), 507.25f);
  EXPECT_EQ(wrap_table_position(-513.0f), 511.0f);
  EXPECT_EQ(wrap_table_position(-1500.0f), 36.0f);
}

TEST(WrapTablePosition, SubtractsMultiplesOf512FromPositionsAtOrAbove512) {
  EXPECT_EQ(wrap_table_position(512.0f), 0.0f);
  EXPECT_EQ(wrap_table_position(512.5f), 0.5f);
  EXPECT_EQ(wrap_table_position(1000.5f), 488.5f);
  EXPECT_EQ(wrap_table_position(5 * 512.0f + 3.25f), 3.25f);
  EXPECT_EQ(wrap_table_position(1024.0f), 0.0f);
}

TEST(SineLoopFeed, ClipsFeedbackToZeroToOneBeforeScalingBy512) {
  EXPECT_EQ(sineloop_feed(1.5), 512.0f);
  EXPECT_EQ(sineloop_feed(1.0), 512.0f);
  EXPECT_EQ(sineloop_feed(-0.2), 0.0f);
  EXPECT_EQ(sineloop_feed(0.0), 0.0f);
  EXPECT_EQ(sineloop_feed(0.1), 0.1f * 512.0f);  // float32(0.1) first, then an exact scaling
}

TEST(SineLoopIncrement, RoundsFrequencyToFloatThenDividesInDouble) {
  EXPECT_EQ(sineloop_increment(24000.0, 48000.0), 256.0f);
  EXPECT_EQ(sineloop_increment(0.0, 48000.0), 0.0f);
  const double frequency_hz = 718.9350350546961;
  EXPECT_EQ(
      sineloop_increment(frequency_hz, 48000.0),
      static_cast<float>(static_cast<double>(static_cast<float>(frequency_hz) * 512.0f) / 48000.0));
  EXPECT_EQ(sineloop_increment(-440.0, 48000.0), -sineloop_increment(440.0, 48000.0));
}

TEST(SineTable, HasPyosGuardPointAndExactExtremes) {
  const auto& table = sine_table();
  ASSERT_EQ(table.size(), kSineTableSize + 2);
  EXPECT_EQ(std::bit_cast<std::uint32_t>(table[512]), 0u) << "the guard point must be +0.0";
  EXPECT_EQ(std::bit_cast<std::uint32_t>(table[0]), 0u);
  EXPECT_EQ(table[128], 1.0f);
  EXPECT_EQ(table[384], -1.0f);
  EXPECT_EQ(table[256], static_cast<float>(1.2246467991473532e-16));  // float32(sin(pi)), not 0
  EXPECT_TRUE(std::isfinite(table[513])) << "the padding entry is read with weight 0";
}

}  // namespace
}  // namespace synthfarm
