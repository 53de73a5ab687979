// The master stage on its own: pyo's fade-in kept bit for bit at 0 dB, the master gain's ramp
// (length, shape, a change in the middle of one), and NaN/Inf replacement and the ±1 limit
// still coming after the gain.
#include "coordinator/mix/master_stage.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace synthfarm {
namespace {

constexpr std::uint32_t kSampleRateHz = 48000;
// -6.0206 dB is 20 * log10(0.5) to 5 digits (-6.0205999...): its linear gain is within 1e-8
// of 0.5, less than half a float ulp there, so the stage's float gain is 0.5f exactly.
constexpr double kHalfGainDb = -6.0206;

// pyo's server fade-in as SINELOOP.md §8 states it, independently of MasterStage: the gain
// accumulates float32(1/T) per frame from the first frame on, T = int(0.005 * sr), and each
// sample is rounded once, float32(acc * gain).
std::vector<float> pyo_fade_in(const std::vector<float>& input, std::uint32_t channels,
                               std::uint32_t sample_rate_hz) {
  const auto fade_frames = static_cast<std::uint32_t>(0.005 * sample_rate_hz);
  const float step = 1.0f / static_cast<float>(fade_frames);
  float gain = 0.0f;
  std::vector<float> output(input.size());
  for (std::size_t frame = 0; frame < input.size() / channels; ++frame) {
    if (frame < fade_frames) gain = gain + step;
    for (std::uint32_t c = 0; c < channels; ++c) {
      output[frame * channels + c] = input[frame * channels + c] * gain;
    }
  }
  return output;
}

// A signal with every kind of finite sample a mix holds: signed zeros, tiny and large values,
// a sine; within ±1 so that the device's limit does not touch it.
std::vector<float> test_signal(std::size_t frames, std::uint32_t channels) {
  std::vector<float> signal(frames * channels);
  for (std::size_t i = 0; i < signal.size(); ++i) {
    signal[i] = 0.7f * std::sin(0.0123f * static_cast<float>(i)) + 1e-30f;
  }
  signal[1] = -0.0f;
  signal[2] = 0.0f;
  signal[3] = std::numeric_limits<float>::denorm_min();
  signal[4] = 0.9999999f;
  return signal;
}

// Runs `signal` through `stage` in blocks of `block_frames` (the last one shorter), calling
// `before_block(first_frame)` before each block: where a test changes the gain.
template <typename BeforeBlock>
std::vector<float> run_in_blocks(MasterStage& stage, std::vector<float> signal,
                                 std::uint32_t channels, std::uint32_t block_frames,
                                 BeforeBlock before_block) {
  const std::size_t frames = signal.size() / channels;
  for (std::size_t first = 0; first < frames; first += block_frames) {
    before_block(first);
    const auto count =
        static_cast<std::uint32_t>(std::min<std::size_t>(block_frames, frames - first));
    stage.process(signal.data() + first * channels, count, channels);
  }
  return signal;
}

std::vector<float> run_in_blocks(MasterStage& stage, std::vector<float> signal,
                                 std::uint32_t channels, std::uint32_t block_frames) {
  return run_in_blocks(stage, std::move(signal), channels, block_frames, [](std::size_t) {});
}

// The first index at which the two differ in any bit, or -1.
long first_bit_difference(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::bit_cast<std::uint32_t>(a[i]) != std::bit_cast<std::uint32_t>(b[i])) {
      return static_cast<long>(i);
    }
  }
  return -1;
}

// The gain applied to each frame, read through a signal of ones on one channel after the
// fade-in: output = float32(fade_in_end * gain), monotonic in the gain.
class GainProbe {
 public:
  explicit GainProbe(bool limit_output = false) : stage_(kSampleRateHz, limit_output) {
    std::vector<float> ones(stage_.fade_frames(), 1.0f);
    stage_.process(ones.data(), stage_.fade_frames(), 1);
    fade_in_end_ = ones.back();  // pyo's 0.9999992
  }
  MasterStage& stage() { return stage_; }
  // What a frame of 1.0 becomes at linear gain `gain`.
  float expected_at(float gain) const { return fade_in_end_ * gain; }
  // `count` frames of a constant `value` (1.0 by default) through the stage.
  std::vector<float> frames(std::uint32_t count, float value = 1.0f) {
    std::vector<float> constant(count, value);
    stage_.process(constant.data(), count, 1);
    return constant;
  }

 private:
  MasterStage stage_;
  float fade_in_end_ = 0.0f;
};

TEST(MasterStage, AtZeroDecibelsTheOutputIsBitIdenticalToPyosFadeIn) {
  constexpr std::uint32_t kChannels = 2;
  const std::vector<float> signal = test_signal(3000, kChannels);
  const std::vector<float> pyo = pyo_fade_in(signal, kChannels, kSampleRateHz);
  for (const bool limit_output : {false, true}) {
    MasterStage untouched(kSampleRateHz, limit_output);
    EXPECT_EQ(first_bit_difference(run_in_blocks(untouched, signal, kChannels, 256), pyo), -1)
        << (limit_output ? "device" : "file");
    // 0 dB set explicitly, in the middle of the fade-in and again later: still no change.
    MasterStage set_to_zero(kSampleRateHz, limit_output);
    const auto output = run_in_blocks(set_to_zero, signal, kChannels, 100, [&](std::size_t frame) {
      if (frame == 100 || frame == 1000) set_to_zero.set_gain_db(0.0);
    });
    EXPECT_EQ(first_bit_difference(output, pyo), -1) << (limit_output ? "device" : "file");
    EXPECT_EQ(set_to_zero.nonfinite_samples(), 0u);
    EXPECT_EQ(set_to_zero.limited_samples(), 0u);
  }
}

TEST(MasterStage, BackAtZeroDecibelsAfterAGainChangeTheOutputIsBitIdenticalAgain) {
  constexpr std::uint32_t kChannels = 2;
  MasterStage stage(kSampleRateHz, /*limit_output=*/true);
  const std::vector<float> signal = test_signal(6000, kChannels);
  const std::vector<float> pyo = pyo_fade_in(signal, kChannels, kSampleRateHz);
  const auto output = run_in_blocks(stage, signal, kChannels, 256, [&](std::size_t frame) {
    if (frame == 512) stage.set_gain_db(-12.0);
    if (frame == 1536) stage.set_gain_db(0.0);
  });
  // The ramp back starts at frame 1536 and lands on exactly 1.0f after gain_ramp_frames().
  const std::size_t restored = 1536 + stage.gain_ramp_frames();
  const std::vector<float> tail_output(output.begin() + restored * kChannels, output.end());
  const std::vector<float> tail_pyo(pyo.begin() + restored * kChannels, pyo.end());
  EXPECT_EQ(first_bit_difference(tail_output, tail_pyo), -1);
  EXPECT_NE(first_bit_difference(output, pyo), -1) << "the gain never changed the output";
}

TEST(MasterStage, TheRampLastsTenMillisecondsAtAnySampleRate) {
  EXPECT_EQ(MasterStage(48000, true).gain_ramp_frames(), 480u);
  EXPECT_EQ(MasterStage(44100, true).gain_ramp_frames(), 441u);
  EXPECT_EQ(MasterStage(96000, true).gain_ramp_frames(), 960u);
  EXPECT_EQ(MasterStage(50, true).gain_ramp_frames(), 1u) << "a ramp is at least one frame";
}

// Tolerance: one float ulp of the expected value. The gain is 0.5f exactly (see kHalfGainDb),
// so halving is exact for normal floats; the ulp leaves room for a libm whose pow() rounds
// 10^(-6.0206/20) one float the other way.
TEST(MasterStage, MinusSixDecibelsHalvesTheSteadyStateOutput) {
  constexpr std::uint32_t kChannels = 2;
  MasterStage stage(kSampleRateHz, /*limit_output=*/false);
  const std::vector<float> signal = test_signal(4000, kChannels);
  const std::vector<float> pyo = pyo_fade_in(signal, kChannels, kSampleRateHz);
  const auto output = run_in_blocks(stage, signal, kChannels, 64, [&](std::size_t frame) {
    if (frame == 640) stage.set_gain_db(kHalfGainDb);
  });
  EXPECT_NEAR(stage.gain_db(), kHalfGainDb, 1e-12);
  const std::size_t steady = 640 + stage.gain_ramp_frames();
  for (std::size_t i = steady * kChannels; i < output.size(); ++i) {
    const float half = pyo[i] / 2.0f;
    const float ulp = std::nextafter(std::fabs(half), INFINITY) - std::fabs(half);
    ASSERT_NEAR(output[i], half, ulp) << "sample " << i;
  }
  // Before the change, untouched.
  for (std::size_t i = 0; i < 640 * kChannels; ++i) ASSERT_EQ(output[i], pyo[i]) << i;
}

TEST(MasterStage, TheRampIsMonotonicAndReachesTheTargetAfterItsStatedFrames) {
  GainProbe probe;
  const std::uint32_t ramp = probe.stage().gain_ramp_frames();
  for (const double target_db : {kHalfGainDb, 6.0, -120.0, 24.0}) {
    const float start = probe.frames(1).back();
    probe.stage().set_gain_db(target_db);
    const std::vector<float> out = probe.frames(ramp + 50);
    const float target = probe.expected_at(static_cast<float>(std::pow(10.0, target_db / 20.0)));
    const bool down = target < start;
    // The first frame of the next block already moves: the change applies at the block boundary.
    EXPECT_NE(out[0], start) << target_db << " dB";
    for (std::uint32_t n = 1; n < out.size(); ++n) {
      if (down) {
        ASSERT_LE(out[n], out[n - 1]) << target_db << " dB, frame " << n;
      } else {
        ASSERT_GE(out[n], out[n - 1]) << target_db << " dB, frame " << n;
      }
    }
    EXPECT_NE(out[ramp - 2], target) << target_db << " dB: reached early";
    for (std::uint32_t n = ramp - 1; n < out.size(); ++n) {
      ASSERT_EQ(out[n], target) << target_db << " dB, frame " << n;
    }
  }
}

// The bound: y[n] - y[n-1] = g[n] (x[n] - x[n-1]) + x[n-1] (g[n] - g[n-1]), so no step exceeds
// the signal's own change times the larger gain plus |target - start| / ramp frames times the
// signal's peak, plus rounding: 4 float ulps of the output's scale (1e-6 at most at these
// levels), for the gain's and the product's roundings.
TEST(MasterStage, NoStepDuringTheRampExceedsTheRampsShareOfTheChangePlusTheSignals) {
  constexpr std::uint32_t kChannels = 2;
  MasterStage stage(kSampleRateHz, /*limit_output=*/true);
  const std::uint32_t ramp = stage.gain_ramp_frames();
  const std::uint32_t change_frame = 1024;
  // A loud, fast sine: its own steps are large, the gain's steps sit on top of them.
  std::vector<float> signal(4096 * kChannels);
  for (std::size_t i = 0; i < signal.size(); ++i) {
    signal[i] = 0.9f * std::sin(0.2f * static_cast<float>(i / kChannels));
  }
  const auto output = run_in_blocks(stage, signal, kChannels, 256, [&](std::size_t frame) {
    if (frame == change_frame) stage.set_gain_db(-40.0);
  });
  const double start_gain = 0.9999992;  // pyo's fade-in end times 0 dB
  const double target_gain = start_gain * std::pow(10.0, -40.0 / 20.0);
  const double gain_step = (start_gain - target_gain) / ramp;
  const double rounding = 4.0 * std::numeric_limits<float>::epsilon();
  for (std::uint32_t c = 0; c < kChannels; ++c) {
    for (std::uint32_t n = change_frame; n < change_frame + ramp + 10; ++n) {
      const double x_now = signal[n * kChannels + c];
      const double x_before = signal[(n - 1) * kChannels + c];
      const double step = std::fabs(static_cast<double>(output[n * kChannels + c]) -
                                    output[(n - 1) * kChannels + c]);
      const double signal_share = start_gain * std::fabs(x_now - x_before);
      ASSERT_LE(step, signal_share + std::fabs(x_before) * gain_step + rounding)
          << "frame " << n << " channel " << c;
    }
  }
  // The ramp did happen: 40 dB down, the peak is a hundredth of what it was.
  float peak_after = 0.0f;
  for (std::size_t i = (change_frame + ramp) * kChannels; i < output.size(); ++i) {
    peak_after = std::max(peak_after, std::fabs(output[i]));
  }
  EXPECT_NEAR(peak_after, 0.009f, 0.0001f);
}

TEST(MasterStage, AChangeDuringARampStartsANewRampFromWhereTheGainIs) {
  GainProbe probe;
  const std::uint32_t ramp = probe.stage().gain_ramp_frames();
  probe.stage().set_gain_db(-20.0);
  const std::vector<float> first_half = probe.frames(ramp / 2);
  const float middle = first_half.back();
  const float low = probe.expected_at(static_cast<float>(std::pow(10.0, -20.0 / 20.0)));
  ASSERT_GT(middle, low) << "the first ramp had already ended";

  probe.stage().set_gain_db(6.0);
  const float high = probe.expected_at(static_cast<float>(std::pow(10.0, 6.0 / 20.0)));
  const std::vector<float> second = probe.frames(ramp + 10);
  // It turns at once, from where it was, with a step of the new ramp's size, not a jump.
  const double step = (static_cast<double>(high) - middle) / ramp;
  EXPECT_NEAR(second[0], middle + step, 1e-6);
  for (std::uint32_t n = 1; n < second.size(); ++n) ASSERT_GE(second[n], second[n - 1]) << n;
  // And it takes a whole ramp from the change, not the rest of the first one.
  EXPECT_LT(second[ramp - 2], high);
  EXPECT_EQ(second[ramp - 1], high);
}

TEST(MasterStage, TheRampDoesNotDependOnTheBlockSize) {
  constexpr std::uint32_t kChannels = 2;
  const std::vector<float> signal = test_signal(10'000, kChannels);
  std::vector<std::vector<float>> outputs;
  for (const std::uint32_t block : {1u, 17u, 64u, 256u}) {
    MasterStage stage(kSampleRateHz, /*limit_output=*/false);
    // Changes at frames every block size divides (the gain applies at block boundaries).
    outputs.push_back(run_in_blocks(stage, signal, kChannels, block, [&](std::size_t frame) {
      if (frame == 17 * 256) stage.set_gain_db(-9.0);
      if (frame == 17 * 256 * 2) stage.set_gain_db(3.0);
    }));
  }
  for (std::size_t i = 1; i < outputs.size(); ++i) {
    EXPECT_EQ(first_bit_difference(outputs[i], outputs[0]), -1) << "block size case " << i;
  }
}

TEST(MasterStage, NanAndInfAreStillReplacedAfterTheGain) {
  for (const double db : {24.0, -120.0}) {
    MasterStage stage(kSampleRateHz, /*limit_output=*/false);
    stage.set_gain_db(db);
    std::vector<float> settle(1000, 0.0f);
    stage.process(settle.data(), 1000, 1);
    std::vector<float> bad = {std::numeric_limits<float>::quiet_NaN(),
                              std::numeric_limits<float>::infinity(),
                              -std::numeric_limits<float>::infinity(), 0.25f};
    stage.process(bad.data(), 4, 1);
    EXPECT_EQ(bad[0], 0.0f) << db;
    EXPECT_EQ(bad[1], 0.0f) << db;
    EXPECT_EQ(bad[2], 0.0f) << db;
    EXPECT_TRUE(std::isfinite(bad[3]) && bad[3] != 0.0f) << db;
    EXPECT_EQ(stage.nonfinite_samples(), 3u) << db;
  }
  // A finite sample the gain takes past the float range becomes Inf after the gain: replaced
  // too, so the gain can never hand a non-finite sample on.
  GainProbe file(/*limit_output=*/false);
  file.stage().set_gain_db(24.0);
  EXPECT_EQ(file.frames(1000, 3e38f).back(), 0.0f);
  EXPECT_GT(file.stage().nonfinite_samples(), 0u);
}

TEST(MasterStage, TheDeviceLimitComesAfterTheGain) {
  GainProbe device(/*limit_output=*/true);
  // +24 dB takes 0.2 to 3.2: limited to 1, and counted.
  device.stage().set_gain_db(24.0);
  EXPECT_EQ(device.frames(1000, 0.2f).back(), 1.0f);
  EXPECT_GT(device.stage().limited_samples(), 0u);

  // 1.5 at -6 dB is 0.75: had the limit come first it would be 0.5.
  GainProbe halved(/*limit_output=*/true);
  halved.stage().set_gain_db(kHalfGainDb);
  EXPECT_FLOAT_EQ(halved.frames(1000, -1.5f).back(), halved.expected_at(-0.75f));
  // Only the start of the ramp, while the gain is above 1 / 1.5, is limited.
  EXPECT_GT(halved.stage().limited_samples(), 0u);
  EXPECT_LT(halved.stage().limited_samples(), halved.stage().gain_ramp_frames());

  // A file is never limited, gain or not.
  GainProbe file(/*limit_output=*/false);
  file.stage().set_gain_db(24.0);
  EXPECT_GT(file.frames(1000, 0.2f).back(), 3.0f);
  EXPECT_EQ(file.stage().limited_samples(), 0u);
}

TEST(MasterStage, TheGainIsClampedToItsRangeAndANanIsIgnored) {
  MasterStage stage(kSampleRateHz, /*limit_output=*/true);
  EXPECT_EQ(stage.gain_db(), 0.0);
  stage.set_gain_db(-3.5);
  EXPECT_EQ(stage.gain_db(), -3.5);
  stage.set_gain_db(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(stage.gain_db(), -3.5);
  stage.set_gain_db(100.0);
  EXPECT_EQ(stage.gain_db(), MasterStage::kMaxGainDb);
  stage.set_gain_db(-std::numeric_limits<double>::infinity());
  EXPECT_EQ(stage.gain_db(), MasterStage::kMinGainDb);
}

}  // namespace
}  // namespace synthfarm
