// The watchdog that ends a run whose output stopped calling, driven by time points of the
// test's own: exact, and nothing sleeps.
#include "coordinator/supervision/output_watchdog.h"

#include <gtest/gtest.h>

namespace synthfarm {
namespace {

using namespace std::chrono_literals;
const OutputWatchdog::Clock::time_point kStart = OutputWatchdog::Clock::time_point(1000h);

TEST(OutputWatchdog, SaysNothingWhileTheOutputKeepsCalling) {
  OutputWatchdog watchdog(256, 48000, kStart);
  for (std::uint64_t calls = 1; calls <= 100; ++calls) {
    EXPECT_FALSE(watchdog.silent_for(calls, kStart + calls * 400ms)) << calls;
  }
}

TEST(OutputWatchdog, ReportsHalfASecondWithoutACallForShortPeriods) {
  // Four periods of 256 frames at 48 kHz are 21 ms: the 500 ms minimum applies.
  OutputWatchdog watchdog(256, 48000, kStart);
  EXPECT_FALSE(watchdog.silent_for(0, kStart + 500ms));
  const auto silent = watchdog.silent_for(0, kStart + 501ms);
  ASSERT_TRUE(silent);
  EXPECT_EQ(*silent, 501ms);
}

TEST(OutputWatchdog, WaitsFourPeriodsWhenThoseAreLonger) {
  // 48000 frames at 48 kHz: a period of 1 s, so 4 s of silence is still a slow output.
  OutputWatchdog watchdog(48000, 48000, kStart);
  EXPECT_FALSE(watchdog.silent_for(0, kStart + 4s));
  EXPECT_TRUE(watchdog.silent_for(0, kStart + 4s + 1ms));
}

TEST(OutputWatchdog, CountsTheSilenceFromTheLastCall) {
  OutputWatchdog watchdog(256, 48000, kStart);
  EXPECT_FALSE(watchdog.silent_for(7, kStart + 400ms));
  EXPECT_FALSE(watchdog.silent_for(7, kStart + 900ms));
  const auto silent = watchdog.silent_for(7, kStart + 1000ms);
  ASSERT_TRUE(silent);
  EXPECT_EQ(*silent, 600ms);
}

}  // namespace
}  // namespace synthfarm
