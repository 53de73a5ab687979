// The JACK test's oracle (tests/support/timeline_comparison.h) on captures made by hand from
// made-up renders: it accepts what a correct synthfarm behind a real server produces (the
// render itself from any buffer on, underruns as one worker's part or silence, a buffer shown
// twice, skipped or torn next to an xrun, anything after the run's end) and rejects what a
// wrong one would (one wrong sample, a jump with no xrun near, a stretch shifted by less than a
// buffer, a worker's late audio played, a skip farther than a server skips).
//
// The renders are pseudo-random float32 values, distinct at every frame and channel, so that a
// captured frame fits the renders at one timeline position only.
#include "tests/support/timeline_comparison.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace synthfarm::testing {
namespace {

constexpr std::uint32_t kChannels = 2;
constexpr std::uint32_t kBlock = 4;           // frames per server cycle (one synthfarm buffer)
constexpr std::uint64_t kRunFrames = 512;     // the real-time run's length
constexpr std::uint64_t kRenderFrames = 600;  // offline renders run longer, as in the JACK test
constexpr std::uint64_t kWindowFrames = TimelineComparison::kXrunWindowCycles * kBlock;

// splitmix64: a well-mixed 64-bit value for each input, reproducible everywhere.
std::uint64_t mixed(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Two workers' parts rendered alone and their sum, as the offline renders would hold them.
struct Renders {
  Renders() {
    for (auto* part : {&worker0, &worker1, &full}) part->resize(kRenderFrames * kChannels);
    for (std::size_t i = 0; i < full.size(); ++i) {
      // In [0.05, 0.45): never 0, and 24 random bits each.
      worker0[i] = 0.05f + 0.4f * static_cast<float>(mixed(2 * i) >> 40) / 16777216.0f;
      worker1[i] = 0.05f + 0.4f * static_cast<float>(mixed(2 * i + 1) >> 40) / 16777216.0f;
      full[i] = worker0[i] + worker1[i];
    }
  }
  const std::vector<float>& alone(std::uint32_t w) const { return w == 0 ? worker0 : worker1; }

  std::vector<float> worker0;
  std::vector<float> worker1;
  std::vector<float> full;
};

// A capture written block by block, as the server's cycles would record it.
class Capture {
 public:
  explicit Capture(const Renders& renders) : renders_(renders) {}

  // `blocks` blocks of the full sum from timeline frame `from` on (any frame, not only a
  // buffer's first).
  Capture& full(std::uint64_t from, std::uint32_t blocks) {
    return from_render(renders_.full, from, blocks);
  }
  // Worker `w`'s part alone: the other worker underran.
  Capture& alone(std::uint32_t w, std::uint64_t from, std::uint32_t blocks) {
    return from_render(renders_.alone(w), from, blocks);
  }
  Capture& silence(std::uint32_t blocks) {
    samples_.resize(samples_.size() + std::size_t{blocks} * kBlock * kChannels, 0.0f);
    return *this;
  }
  // One block, sample (n, c) from `sample`.
  Capture& block(const std::function<float(std::uint32_t n, std::uint32_t c)>& sample) {
    for (std::uint32_t n = 0; n < kBlock; ++n) {
      for (std::uint32_t c = 0; c < kChannels; ++c) samples_.push_back(sample(n, c));
    }
    return *this;
  }

  std::vector<float>& samples() { return samples_; }
  const std::vector<float>& samples() const { return samples_; }
  std::uint64_t frames() const { return samples_.size() / kChannels; }

 private:
  Capture& from_render(const std::vector<float>& render, std::uint64_t from, std::uint32_t blocks) {
    const auto begin = render.begin() + static_cast<std::ptrdiff_t>(from * kChannels);
    samples_.insert(samples_.end(), begin, begin + std::ptrdiff_t{blocks} * kBlock * kChannels);
    return *this;
  }

  const Renders& renders_;
  std::vector<float> samples_;
};

class TimelineOracle : public ::testing::Test {
 protected:
  TimelineComparison compare(const Capture& capture, std::vector<std::uint64_t> xrun_frames = {},
                             std::uint64_t set_aside_begin = 0, std::uint64_t set_aside_end = 0) {
    return TimelineComparison(
        {.capture = {capture.samples(), kChannels},
         .xrun_frames = std::move(xrun_frames),
         .full = {renders_.full, kChannels},
         .alone = {{renders_.worker0, kChannels}, {renders_.worker1, kChannels}},
         .block_frames = kBlock,
         .run_frames = kRunFrames,
         .set_aside_begin = set_aside_begin,
         .set_aside_end = set_aside_end});
  }
  float full(std::uint64_t t, std::uint32_t c) const { return renders_.full[t * kChannels + c]; }
  float alone(std::uint32_t w, std::uint64_t t, std::uint32_t c) const {
    return renders_.alone(w)[t * kChannels + c];
  }

  Renders renders_;
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// --- What it accepts.

TEST_F(TimelineOracle, AcceptsTheRenderItselfFromAnyBufferOnAfterSilence) {
  Capture capture(renders_);
  capture.silence(3).full(40, 50);  // silent cycles before synthfarm's ports were connected
  const TimelineComparison result = compare(capture);
  ASSERT_TRUE(result.found()) << result.describe(1000);
  EXPECT_EQ(result.first_capture_frame(), 3 * kBlock);
  EXPECT_EQ(result.first_position(), 40u);
  EXPECT_EQ(result.compared_frames(), 50 * kBlock);
  EXPECT_EQ(result.outside().full, 50 * kBlock);
  EXPECT_EQ(result.outside().total(), 50 * kBlock);
  EXPECT_EQ(result.wrong_frames(), 0u);
  EXPECT_TRUE(result.jumps().empty());
}

TEST_F(TimelineOracle, AcceptsUnderrunsAsOneWorkersPartOrSilenceEvenMidBuffer) {
  Capture capture(renders_);
  capture.full(0, 4).alone(0, 16, 2).alone(1, 24, 1).silence(1);
  // Worker 0 underruns from the middle of the buffer at 32 on.
  capture.block([&](std::uint32_t n, std::uint32_t c) {
    return n < 2 ? full(32 + n, c) : alone(1, 32 + n, c);
  });
  capture.full(36, 4);
  const TimelineComparison result = compare(capture);
  ASSERT_TRUE(result.found());
  EXPECT_EQ(result.outside().full, 16u + 2 + 16);
  EXPECT_EQ(result.outside().one_worker, 8u + 4 + 2);
  EXPECT_EQ(result.outside().silent, 4u);
  EXPECT_EQ(result.wrong_frames(), 0u) << result.describe(1000);
  EXPECT_TRUE(result.jumps().empty());
}

TEST_F(TimelineOracle, AcceptsABufferShownTwiceNextToAnXrun) {
  Capture capture(renders_);
  capture.full(0, 20).full(76, 1).full(80, 20);
  const TimelineComparison result = compare(capture, {80});
  ASSERT_EQ(result.jumps().size(), 1u) << result.describe(1000);
  EXPECT_EQ(result.jumps()[0].capture_frame, 80u);
  EXPECT_EQ(result.jumps()[0].from_position, 80u);
  EXPECT_EQ(result.jumps()[0].to_position, 76u);
  EXPECT_FALSE(result.jumps()[0].torn);
  EXPECT_TRUE(result.unexplained_jumps().empty());
  EXPECT_EQ(result.wrong_frames(), 0u);
  EXPECT_EQ(result.outside().full, 41 * kBlock);
}

TEST_F(TimelineOracle, AcceptsSkippedBuffersNextToAnXrun) {
  Capture capture(renders_);
  capture.full(0, 20).full(92, 20);  // buffers 80, 84 and 88 never reached the capture
  const TimelineComparison result = compare(capture, {84});
  ASSERT_EQ(result.jumps().size(), 1u) << result.describe(1000);
  EXPECT_EQ(result.jumps()[0].from_position, 80u);
  EXPECT_EQ(result.jumps()[0].to_position, 92u);
  EXPECT_TRUE(result.unexplained_jumps().empty());
  EXPECT_EQ(result.wrong_frames(), 0u);
  EXPECT_TRUE(contains(result.describe(1000), "skipped 3 buffers")) << result.describe(1000);
}

// The server read the port while synthfarm wrote it, one channel after the other: channel 0
// already holds the next buffer (84), channel 1 still the one before (80).
TEST_F(TimelineOracle, AcceptsABlockTornBetweenTwoBuffersNextToAnXrun) {
  Capture capture(renders_);
  capture.full(0, 20);
  capture.block([&](std::uint32_t n, std::uint32_t c) { return full((c == 0 ? 84 : 80) + n, c); });
  capture.full(88, 20);
  const TimelineComparison result = compare(capture, {80});
  ASSERT_EQ(result.jumps().size(), 1u) << result.describe(1000);
  EXPECT_TRUE(result.jumps()[0].torn);
  EXPECT_EQ(result.jumps()[0].to_position, 84u);
  EXPECT_TRUE(result.unexplained_jumps().empty());
  EXPECT_EQ(result.outside().torn, kBlock);
  EXPECT_EQ(result.outside().full, 40 * kBlock);
  EXPECT_EQ(result.wrong_frames(), 0u);
}

TEST_F(TimelineOracle, TalliesTheDeliberateStallApart) {
  Capture capture(renders_);
  capture.full(0, 10).alone(0, 40, 5).full(60, 10);
  const TimelineComparison result = compare(capture, {}, 40, 60);
  EXPECT_EQ(result.set_aside().one_worker, 20u);
  EXPECT_EQ(result.set_aside().total(), 20u);
  EXPECT_EQ(result.outside().one_worker, 0u);
  EXPECT_EQ(result.outside().full, 80u);
  EXPECT_EQ(result.wrong_frames(), 0u);
}

// From the run's end on, synthfarm fades out: what the capture holds there is not compared.
TEST_F(TimelineOracle, StopsComparingWhereTheRunEnds) {
  Capture capture(renders_);
  capture.full(kRunFrames - 64, 16);
  capture.block([&](std::uint32_t n, std::uint32_t c) { return 0.5f * full(kRunFrames + n, c); });
  const TimelineComparison result = compare(capture);
  EXPECT_EQ(result.compared_frames(), 64u);
  EXPECT_EQ(result.wrong_frames(), 0u) << result.describe(1000);
}

// --- The xrun window: kXrunWindowCycles cycles either side of the jump's cycle.

struct WindowCase {
  std::uint64_t xrun_frame;
  bool explains;
};

void PrintTo(const WindowCase& window, std::ostream* out) {
  *out << "xrun at capture frame " << window.xrun_frame
       << (window.explains ? ", inside the window" : ", outside the window");
}

class XrunWindow : public TimelineOracle, public ::testing::WithParamInterface<WindowCase> {};

// A skip at capture frame 120 (cycle 30) of a capture of 70 cycles: the window holds the xruns
// the capture first knew of after cycle 22 began, up to the start of cycle 39.
TEST_P(XrunWindow, ExplainsAJumpOnlyWithAnXrunInsideIt) {
  Capture capture(renders_);
  capture.full(0, 30).full(128, 40);
  const TimelineComparison result = compare(capture, {GetParam().xrun_frame});
  ASSERT_EQ(result.jumps().size(), 1u) << result.describe(1000);
  ASSERT_EQ(result.jumps()[0].capture_frame, 120u);
  EXPECT_EQ(result.unexplained_jumps().empty(), GetParam().explains)
      << "xrun at capture frame " << GetParam().xrun_frame;
}

INSTANTIATE_TEST_SUITE_P(Boundaries, XrunWindow,
                         ::testing::Values(WindowCase{120 - kWindowFrames, false},
                                           WindowCase{120 - kWindowFrames + kBlock, true},
                                           WindowCase{120, true},
                                           WindowCase{120 + kWindowFrames + kBlock, true},
                                           WindowCase{120 + kWindowFrames + 2 * kBlock, false}),
                         [](const ::testing::TestParamInfo<WindowCase>& param_info) {
                           return "XrunAtFrame" + std::to_string(param_info.param.xrun_frame) +
                                  (param_info.param.explains ? "Explains" : "ExplainsNothing");
                         });

TEST_F(TimelineOracle, AWindowReachingPastTheCaptureTakesEveryLaterXrun) {
  Capture capture(renders_);
  capture.full(0, 30).full(128, 5);  // the skip at cycle 30 of 35
  EXPECT_TRUE(compare(capture, {capture.frames()}).unexplained_jumps().empty())
      << "an xrun reported after the capture's last cycle began";
  EXPECT_FALSE(compare(capture, {120 - kWindowFrames}).unexplained_jumps().empty())
      << "an xrun before the window";
}

TEST_F(TimelineOracle, AcceptsASkipOfAtMostMaxJumpBlocks) {
  constexpr std::uint64_t kLast = 36;  // the last buffer before the skip
  Capture capture(renders_);
  capture.full(0, 10).full(kLast + TimelineComparison::kMaxJumpBlocks * kBlock, 3);
  const TimelineComparison result = compare(capture, {40});
  EXPECT_EQ(result.wrong_frames(), 0u) << result.describe(1000);
  EXPECT_EQ(result.jumps().size(), 1u);
}

// --- What it rejects.

TEST_F(TimelineOracle, RejectsOneWrongSample) {
  Capture capture(renders_);
  capture.full(0, 30);
  float& sample = capture.samples()[50 * kChannels + 1];
  sample = std::nextafter(sample, 1.0f);  // one ulp
  const TimelineComparison result = compare(capture, {48});
  EXPECT_EQ(result.wrong_frames(), kBlock) << "the block that holds it";
  EXPECT_EQ(result.outside().full, 29 * kBlock) << "the blocks after it still line up";
  EXPECT_TRUE(result.jumps().empty());
  EXPECT_TRUE(contains(result.describe(1000), "the first wrong block is capture frame 48"))
      << result.describe(1000);
}

TEST_F(TimelineOracle, RejectsAWrongSampleDuringTheStallToo) {
  Capture capture(renders_);
  capture.full(0, 10).alone(0, 40, 5).full(60, 10);
  float& sample = capture.samples()[45 * kChannels];
  sample = std::nextafter(sample, 0.0f);
  const TimelineComparison result = compare(capture, {}, 40, 60);
  EXPECT_EQ(result.set_aside().wrong, kBlock);
  EXPECT_EQ(result.wrong_frames(), kBlock);
}

TEST_F(TimelineOracle, RejectsAJumpWithNoXrunNear) {
  Capture capture(renders_);
  capture.full(0, 20).full(92, 20);
  const TimelineComparison without = compare(capture);
  ASSERT_EQ(without.unexplained_jumps().size(), 1u) << without.describe(1000);
  EXPECT_EQ(without.unexplained_jumps()[0].capture_frame, 80u);
  EXPECT_TRUE(contains(without.describe(1000), "with no xrun near")) << without.describe(1000);
  EXPECT_EQ(compare(capture, {4, 150}).unexplained_jumps().size(), 1u)
      << "xruns far from the jump explain nothing";
}

TEST_F(TimelineOracle, RejectsABufferShownTwiceWithNoXrun) {
  Capture capture(renders_);
  capture.full(0, 20).full(76, 1).full(80, 20);
  EXPECT_EQ(compare(capture).unexplained_jumps().size(), 1u);
}

TEST_F(TimelineOracle, RejectsAStretchShiftedByLessThanABuffer) {
  Capture capture(renders_);
  capture.full(0, 10).full(41, 5).full(60, 10);  // 5 blocks one frame ahead
  const TimelineComparison result = compare(capture, {40, 44, 48, 52, 56});
  EXPECT_EQ(result.wrong_frames(), 5 * kBlock) << result.describe(1000);
  EXPECT_EQ(result.outside().full, 20 * kBlock);
}

// What a mixer that played late frames would send: worker 1 a buffer behind worker 0.
TEST_F(TimelineOracle, RejectsALateWorkersAudioPlayed) {
  Capture capture(renders_);
  capture.full(0, 10);
  for (std::uint64_t t = 40; t < 52; t += kBlock) {
    capture.block([&](std::uint32_t n, std::uint32_t c) {
      return alone(0, t + n, c) + alone(1, t + n - kBlock, c);
    });
  }
  capture.full(52, 10);
  const TimelineComparison result = compare(capture, {40});
  EXPECT_EQ(result.wrong_frames(), 3 * kBlock) << result.describe(1000);
}

// The same while worker 0 underran: worker 1's part alone, a buffer late. It fits the buffer
// before, so it can only pass as that buffer shown twice, which no xrun explains here.
TEST_F(TimelineOracle, RejectsALateWorkersPartPlayedAlone) {
  Capture capture(renders_);
  capture.full(0, 10).alone(1, 40 - kBlock, 1).full(44, 10);
  const TimelineComparison result = compare(capture);
  EXPECT_TRUE(result.wrong_frames() > 0 || !result.unexplained_jumps().empty())
      << result.describe(1000);
}

TEST_F(TimelineOracle, RejectsASkipFartherThanTheServerSkips) {
  constexpr std::uint64_t kLast = 36;
  Capture capture(renders_);
  capture.full(0, 10).full(kLast + 80 * kBlock, 3);  // 80 buffers on: more than kMaxJumpBlocks
  const TimelineComparison result = compare(capture, {40});
  EXPECT_EQ(result.wrong_frames(), 3 * kBlock) << result.describe(1000);
}

TEST_F(TimelineOracle, FindsNothingInACaptureThatIsNotTheRender) {
  Capture capture(renders_);
  for (int b = 0; b < 10; ++b) {
    capture.block([&](std::uint32_t n, std::uint32_t c) { return 0.5f * full(b * kBlock + n, c); });
  }
  const TimelineComparison result = compare(capture);
  EXPECT_FALSE(result.found());
  EXPECT_EQ(result.compared_frames(), 0u);
  EXPECT_EQ(result.describe(1000), "no captured block occurs in the offline render");
}

}  // namespace
}  // namespace synthfarm::testing
