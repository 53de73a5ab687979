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
  latency.p99_us = 6.0;
  summarize_lateness({}, latency);
  EXPECT_EQ(latency.wakes, 0u);
  EXPECT_EQ(latency.median_us, 0.0);
  EXPECT_EQ(latency.p99_us, 0.0);
  EXPECT_EQ(latency.max_us, 0.0);
  EXPECT_EQ(wakes_later_than(latency, 0.0), 0u);
}

TEST(IdleWakeProbe, SaysHowManyWakeUpsCameLaterThanAProbeSurvives) {
  IdleWakeLatency latency;
  latency.cpus = 2;
  latency.seconds = 5;
  latency.interval_us = 1000;
  latency.realtime = true;
  summarize_lateness({30.0, 40.0, 6400.0}, latency);
  // 256 frames at 48 kHz: the null clock underflows on a wake-up one period (5333 us) late.
  const std::string late = describe_idle_wake_latency(latency, 5333.3, "a period");
  EXPECT_TRUE(contains(late, "max 6.400 ms late")) << late;
  EXPECT_TRUE(contains(late, "1 of 3 wake-ups later than 5.33 ms (a period)")) << late;
  EXPECT_TRUE(contains(late, "machine's limit")) << late;
  EXPECT_TRUE(contains(late, "SCHED_FIFO 1")) << late;
  // More slack (JACK at 3 buffers: two periods), and the same machine is not the limit.
  const std::string spare = describe_idle_wake_latency(latency, 10666.7, "two periods");
  EXPECT_FALSE(contains(spare, "later than")) << spare;
  // No slack at all (one buffer under JACK): no judgement rather than "every wake-up".
  EXPECT_FALSE(contains(describe_idle_wake_latency(latency, 0.0, "none"), "later than"));
}

TEST(IdleWakeProbe, ALongStallIsOneLateWakeUpAndTheDeadlinesItSleptThrough) {
  constexpr std::int64_t kMs = 1'000'000;
  EXPECT_EQ(deadlines_passed(0, kMs, 100), 0u);
  EXPECT_EQ(deadlines_passed(kMs - 1, kMs, 100), 0u);  // late, but the next one is ahead
  EXPECT_EQ(deadlines_passed(kMs, kMs, 100), 1u);      // woke exactly on the next one
  EXPECT_EQ(deadlines_passed(16 * kMs + 300, kMs, 100), 16u);
  EXPECT_EQ(deadlines_passed(16 * kMs, kMs, 5), 5u);  // never past the last deadline
  EXPECT_EQ(deadlines_passed(-5, kMs, 100), 0u);
}

TEST(IdleWakeProbe, AccountsForEveryDeadlineOfEveryAllowedCpuAndNeverWakesEarly) {
  std::string error;
  const auto latency = measure_idle_wake_latency(0.1, 1000.0, error);
  ASSERT_TRUE(latency) << error;
  ASSERT_GE(latency->cpus, 1u);
  // Each of the 100 deadlines per CPU is either a wake-up or passed during a late one.
  EXPECT_EQ(latency->wakes + latency->missed, 100u * latency->cpus);
  EXPECT_GE(latency->wakes, latency->cpus);
  ASSERT_EQ(latency->sorted_lateness_us.size(), latency->wakes);
  // An absolute-deadline sleep never returns before its deadline.
  EXPECT_GE(latency->sorted_lateness_us.front(), 0.0);
  EXPECT_LE(latency->median_us, latency->max_us);
}

TEST(IdleWakeProbe, RefusesADurationOrIntervalOutOfRangeWithoutProbing) {
  std::string error;
  EXPECT_FALSE(measure_idle_wake_latency(0.01, 1000.0, error));
  EXPECT_NE(error.find("out of range"), std::string::npos) << error;
  EXPECT_FALSE(measure_idle_wake_latency(kMaxWakeProbeSeconds + 1, 1000.0, error));
  EXPECT_FALSE(measure_idle_wake_latency(1.0, 0.0, error));
}

}  // namespace
}  // namespace synthfarm::bench
