#include "shared/duration_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

namespace synthfarm {
namespace {

TEST(DurationHistogram, EveryValueLandsInTheBucketThatContainsIt) {
  for (std::uint64_t ns : {0ull, 1ull, 15ull, 16ull, 17ull, 31ull, 32ull, 33ull, 1000ull,
                           5'333'333ull, 123'456'789ull, 1ull << 40, (1ull << 40) - 1}) {
    const std::uint32_t bucket = duration_bucket(ns);
    ASSERT_LT(bucket, kDurationBuckets);
    EXPECT_LE(duration_bucket_floor_ns(bucket), ns) << ns;
    if (bucket + 1 < kDurationBuckets) {
      EXPECT_GT(duration_bucket_floor_ns(bucket + 1), ns) << ns;
    }
  }
}

TEST(DurationHistogram, BucketsAreNarrowerThanOneSixteenthOfTheirValue) {
  for (std::uint32_t b = kDurationSubBuckets; b + 1 < kDurationBuckets; ++b) {
    const double low = static_cast<double>(duration_bucket_floor_ns(b));
    const double high = static_cast<double>(duration_bucket_floor_ns(b + 1));
    ASSERT_GT(high, low);
    EXPECT_LE((high - low) / low, 1.0 / 16.0 + 1e-12) << b;
  }
}

TEST(DurationHistogram, HugeValuesGoToTheLastBucketInsteadOfOverflowing) {
  EXPECT_EQ(duration_bucket(UINT64_MAX), kDurationBuckets - 1);
}

TEST(DurationHistogram, QuantilesMatchSortedDataWithinTheBucketWidth) {
  auto histogram = std::make_unique<DurationHistogram>();
  std::mt19937_64 random(7);
  std::lognormal_distribution<double> durations(std::log(20'000.0), 0.6);
  std::vector<std::uint64_t> values;
  for (int i = 0; i < 20'000; ++i) {
    values.push_back(static_cast<std::uint64_t>(durations(random)));
    histogram->record(values.back());
  }
  std::sort(values.begin(), values.end());
  const auto summary = DurationSummary::read(*histogram);
  EXPECT_EQ(summary.count, values.size());
  EXPECT_EQ(summary.min_ns, values.front());
  EXPECT_EQ(summary.max_ns, values.back());
  for (double q : {0.01, 0.5, 0.9, 0.99, 0.999}) {
    const auto exact = static_cast<double>(
        values[static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size()))) - 1]);
    // A bucket is at most 1/16 of its value wide and the midpoint is reported: within 1/32,
    // plus rounding of the bucket edges.
    EXPECT_NEAR(static_cast<double>(summary.quantile_ns(q)), exact, exact / 32.0 + 1.0) << q;
  }
  EXPECT_EQ(summary.quantile_ns(1.0), values.back());
  EXPECT_EQ(summary.quantile_ns(0.0), values.front());
}

TEST(DurationHistogram, AnIntervalHoldsOnlyWhatWasRecordedInIt) {
  auto histogram = std::make_unique<DurationHistogram>();
  for (int i = 0; i < 100; ++i) histogram->record(1'000);
  const auto before = DurationSummary::read(*histogram);
  for (int i = 0; i < 10; ++i) histogram->record(50'000);
  const auto interval = DurationSummary::read(*histogram).since(before);
  EXPECT_EQ(interval.count, 10u);
  EXPECT_DOUBLE_EQ(interval.mean_ns(), 50'000.0);
  EXPECT_NEAR(static_cast<double>(interval.max_ns), 50'000.0, 50'000.0 / 16.0);
  EXPECT_GE(interval.min_ns, 50'000u - 50'000u / 16u);
  EXPECT_NEAR(static_cast<double>(interval.quantile_ns(0.5)), 50'000.0, 50'000.0 / 16.0);
}

TEST(DurationHistogram, AnEmptyHistogramReportsZeros) {
  auto histogram = std::make_unique<DurationHistogram>();
  const auto summary = DurationSummary::read(*histogram);
  EXPECT_EQ(summary.count, 0u);
  EXPECT_EQ(summary.min_ns, 0u);
  EXPECT_EQ(summary.max_ns, 0u);
  EXPECT_EQ(summary.quantile_ns(0.99), 0u);
  EXPECT_EQ(summary.mean_ns(), 0.0);
}

TEST(DurationHistogram, ResetMakesZeroFilledMemoryAnEmptyHistogram) {
  auto histogram = std::make_unique<DurationHistogram>();
  histogram->min_ns.store(0);  // as in a freshly mapped segment
  histogram->reset();
  histogram->record(300);
  EXPECT_EQ(DurationSummary::read(*histogram).min_ns, 300u);
}

}  // namespace
}  // namespace synthfarm
