// shared/realtime_counters.h: the deadline arithmetic the null clock and the bench's wake-up
// probe sleep by (clock_nanosleep wants a normalized timespec: 0 <= tv_nsec < 1e9).

#include "shared/realtime_counters.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace synthfarm {
namespace {

TEST(TimespecNanoseconds, SplitsAtTheSecondAndComesBackUnchanged) {
  for (const std::int64_t ns :
       {std::int64_t{0}, std::int64_t{999'999'999}, std::int64_t{1'000'000'000},
        std::int64_t{5'333'333}, std::int64_t{86'400} * kNanosPerSecond + 1}) {
    const timespec time = timespec_from_ns(ns);
    EXPECT_GE(time.tv_nsec, 0) << ns;
    EXPECT_LT(time.tv_nsec, 1'000'000'000) << ns;
    EXPECT_EQ(timespec_to_ns(time), ns);
  }
  EXPECT_EQ(timespec_from_ns(1'000'000'000).tv_sec, 1);
  EXPECT_EQ(timespec_from_ns(1'000'000'000).tv_nsec, 0);
}

TEST(TimespecNanoseconds, ReadsTheMonotonicClockAsMonotonicNsDoes) {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const std::int64_t before = timespec_to_ns(now);
  const auto after = static_cast<std::int64_t>(monotonic_ns());
  EXPECT_GE(after, before);
}

}  // namespace
}  // namespace synthfarm
