// The line after a live run's teardown that says whether its fade-out reached the device: the
// process tests and scripts look for these words, and a wrong stream hides a click's warning.
#include "coordinator/report/fade_out_text.h"

#include <gtest/gtest.h>

namespace synthfarm {
namespace {

constexpr std::uint64_t kNeeded = 4;  // RunOutput::kBuffersAfterFadeOut, PulseAudio's queue

TEST(FadeOutText, PlayedFadeSaysHowManyBuffersFollowedOnStdout) {
  const ConsoleLine line = format_fade_out(true, 5, false, kNeeded);
  EXPECT_FALSE(line.to_stderr);
  EXPECT_EQ(line.text, "synthfarm: faded out; the output played 5 buffers after the fade\n");
}

TEST(FadeOutText, ExactlyTheBuffersNeededCountAsPlayed) {
  EXPECT_FALSE(format_fade_out(true, kNeeded, false, kNeeded).to_stderr);
}

TEST(FadeOutText, OneBufferShortWarnsOnStderrThatTheEndMayClick) {
  const ConsoleLine line = format_fade_out(true, kNeeded - 1, false, kNeeded);
  EXPECT_TRUE(line.to_stderr);
  EXPECT_EQ(line.text,
            "synthfarm: the output stopped before the fade-out was played (it asked for only 3 "
            "buffers after it); the end may click\n");
}

TEST(FadeOutText, FadeNeverComputedWarnsOnStderrEvenWithBuffersAfter) {
  const ConsoleLine line = format_fade_out(false, 10, false, kNeeded);
  EXPECT_TRUE(line.to_stderr);
  EXPECT_EQ(line.text,
            "synthfarm: the output stopped before the fade-out was played (the fade was not "
            "computed); the end may click\n");
}

TEST(FadeOutText, SecondSignalIsReportedOnStdoutWhateverTheFadeReached) {
  for (const bool faded : {false, true}) {
    const ConsoleLine line = format_fade_out(faded, 0, true, kNeeded);
    EXPECT_FALSE(line.to_stderr);
    EXPECT_EQ(line.text, "synthfarm: fade-out cut short by a second signal\n");
  }
}

}  // namespace
}  // namespace synthfarm
