#include "bench/idle_wake_probe.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace synthfarm::bench {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(IdleWakeProbe, SummarizesByNearestRankWhateverTheOrder) {
  std::vector<double> lateness;
  for (int value = 100; value >= 1; --value) lateness.push_back(value);
  IdleWakeLatency latency;
  summarize_lateness(lateness, latency);
  EXPECT_EQ(latency.wakes, 100u);
  EXPECT_EQ(latency.median_us, 50.0);
  EXPECT_EQ(latency.p99_us, 99.0);
  EXPECT_EQ(latency.max_us, 100.0);
  EXPECT_EQ(wakes_later_than(latency, 90.0), 10u);
  EXPECT_EQ(wakes_later_than(latency, 100.0), 0u);
  EXPECT_EQ(wakes_later_than(latency, 0.5), 100u);
}

TEST(IdleWakeProbe, NoWakeUpsSummarizeToZeros) {
  IdleWakeLatency latency;
  latency.max_us = 7.0;
  summarize_lateness({}, latency);
  EXPECT_EQ(latency.wakes, 0u);
  EXPECT_EQ(latency.median_us, 0.0);
  EXPECT_EQ(latency.max_us, 0.0);
  EXPECT_EQ(wakes_later_than(latency, 0.0), 0u);
}

TEST(IdleWakeProbe, SaysWhenTheWorstWakeUpExceedsTheSlackOfTheSmallestBufferCount) {
  IdleWakeLatency latency;
  latency.cpus = 2;
  latency.seconds = 5;
  latency.interval_us = 1000;
  latency.realtime = true;
  summarize_lateness({30.0, 40.0, 6400.0}, latency);
  // 256 frames at 48 kHz: 5333 us a period; 2 buffers leave one period to spare.
  const std::string two = describe_idle_wake_latency(latency, 5333.3, 2);
  EXPECT_TRUE(contains(two, "max 6.400 ms late")) << two;
  EXPECT_TRUE(contains(two, "1 of 3 later than the 5.33 ms a block has to spare at 2 buffers"))
      << two;
  EXPECT_TRUE(contains(two, "SCHED_FIFO 1")) << two;
  // 3 buffers leave two periods: the same machine is not the limit there.
  const std::string three = describe_idle_wake_latency(latency, 5333.3, 3);
  EXPECT_FALSE(contains(three, "to spare")) << three;
}

TEST(IdleWakeProbe, ProbesEveryAllowedCpuOncePerDeadlineAndNeverWakesEarly) {
  std::string error;
  const auto latency = measure_idle_wake_latency(0.1, 1000.0, error);
  ASSERT_TRUE(latency) << error;
  ASSERT_GE(latency->cpus, 1u);
  EXPECT_EQ(latency->wakes, 100u * latency->cpus);
  ASSERT_EQ(latency->sorted_lateness_us.size(), latency->wakes);
  // An absolute-deadline sleep never returns before its deadline.
  EXPECT_GE(latency->sorted_lateness_us.front(), 0.0);
  EXPECT_LE(latency->median_us, latency->max_us);
}

}  // namespace
}  // namespace synthfarm::bench
