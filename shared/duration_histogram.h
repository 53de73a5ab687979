#pragma once
// A fixed-size histogram of durations in nanoseconds, written by one real-time thread and read
// by others, also across processes (it lives in the shared segment for worker render times).
//
// Buckets are log-linear: exact below 16 ns, then 16 buckets per power of two, so any value is
// placed within 1/16 (6.25 %) of itself, from 1 ns to past 500 s. Percentiles come from the
// bucket midpoints; the exact minimum, maximum and total are kept beside the buckets.
//
// Plain fixed-size atomics, no pointers: safe to place in shared memory. Zero-initialised
// memory is an empty histogram except for min_ns (see reset()).

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstdint>

#include "shared/realtime_counters.h"

namespace synthfarm {

inline constexpr std::uint32_t kDurationSubBuckets = 16;
inline constexpr std::uint32_t kDurationBuckets = 40 * kDurationSubBuckets;

// The bucket a duration falls in. Pure, RT-safe.
constexpr std::uint32_t duration_bucket(std::uint64_t ns) noexcept {
  if (ns < kDurationSubBuckets) return static_cast<std::uint32_t>(ns);
  const auto exponent = static_cast<std::uint32_t>(std::bit_width(ns) - 1);  // >= 4
  const auto sub = static_cast<std::uint32_t>(ns >> (exponent - 4)) & (kDurationSubBuckets - 1);
  const std::uint32_t bucket = (exponent - 3) * kDurationSubBuckets + sub;
  return bucket < kDurationBuckets ? bucket : kDurationBuckets - 1;
}

// The smallest duration in a bucket.
constexpr std::uint64_t duration_bucket_floor_ns(std::uint32_t bucket) noexcept {
  if (bucket < kDurationSubBuckets) return bucket;
  const std::uint32_t exponent = bucket / kDurationSubBuckets + 3;
  const std::uint64_t sub = bucket % kDurationSubBuckets;
  return (kDurationSubBuckets + sub) << (exponent - 4);
}

struct DurationHistogram {
  std::atomic<std::uint64_t> count{0};
  std::atomic<std::uint64_t> total_ns{0};
  std::atomic<std::uint64_t> min_ns{UINT64_MAX};
  std::atomic<std::uint64_t> max_ns{0};
  std::array<std::atomic<std::uint64_t>, kDurationBuckets> buckets{};

  // Thread: the one writer (the audio callback or a worker's render loop). RT-safe: a handful
  // of relaxed loads and stores, no read-modify-write (only this thread writes).
  void record(std::uint64_t ns) noexcept {
    add_relaxed(buckets[duration_bucket(ns)], 1);
    add_relaxed(total_ns, ns);
    if (ns > max_ns.load(std::memory_order_relaxed)) max_ns.store(ns, std::memory_order_relaxed);
    if (ns < min_ns.load(std::memory_order_relaxed)) min_ns.store(ns, std::memory_order_relaxed);
    // Written last: a reader that sees the count sees (at least) the buckets counted so far.
    // Release pairs with DurationSummary::read's acquire.
    count.store(count.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }

  // Before the writer starts (shared memory is zero-filled, which leaves min_ns at 0).
  void reset() noexcept {
    count.store(0, std::memory_order_relaxed);
    total_ns.store(0, std::memory_order_relaxed);
    min_ns.store(UINT64_MAX, std::memory_order_relaxed);
    max_ns.store(0, std::memory_order_relaxed);
    for (auto& bucket : buckets) bucket.store(0, std::memory_order_relaxed);
  }
};

static_assert(sizeof(DurationHistogram) % 8 == 0);

// A reader's copy of a histogram, for statistics. Not RT-safe to build (5 KB copy), but it does
// not allocate either. Subtract two snapshots to get the statistics of an interval.
struct DurationSummary {
  std::uint64_t count = 0;
  std::uint64_t total_ns = 0;
  std::uint64_t min_ns = 0;  // 0 when empty
  std::uint64_t max_ns = 0;
  std::array<std::uint64_t, kDurationBuckets> buckets{};

  static DurationSummary read(const DurationHistogram& histogram) noexcept {
    DurationSummary summary;
    summary.count = histogram.count.load(std::memory_order_acquire);
    summary.total_ns = histogram.total_ns.load(std::memory_order_relaxed);
    summary.max_ns = histogram.max_ns.load(std::memory_order_relaxed);
    const std::uint64_t min = histogram.min_ns.load(std::memory_order_relaxed);
    summary.min_ns = min == UINT64_MAX ? 0 : min;
    for (std::uint32_t b = 0; b < kDurationBuckets; ++b) {
      summary.buckets[b] = histogram.buckets[b].load(std::memory_order_relaxed);
    }
    return summary;
  }

  // What happened between `earlier` and this snapshot. min/max of the interval are not kept
  // exactly: they are taken from its lowest and highest non-empty buckets (within 1/16),
  // clamped to the whole-run extremes.
  DurationSummary since(const DurationSummary& earlier) const noexcept {
    DurationSummary interval;
    interval.count = count - earlier.count;
    interval.total_ns = total_ns - earlier.total_ns;
    for (std::uint32_t b = 0; b < kDurationBuckets; ++b) {
      interval.buckets[b] = buckets[b] >= earlier.buckets[b] ? buckets[b] - earlier.buckets[b] : 0;
    }
    interval.min_ns = 0;
    interval.max_ns = 0;
    for (std::uint32_t b = 0; b < kDurationBuckets; ++b) {
      if (interval.buckets[b]) {
        interval.min_ns = std::max(duration_bucket_floor_ns(b), min_ns);
        break;
      }
    }
    for (std::uint32_t b = kDurationBuckets; b-- > 0;) {
      if (interval.buckets[b]) {
        const std::uint64_t ceiling =
            b + 1 < kDurationBuckets ? duration_bucket_floor_ns(b + 1) - 1 : max_ns;
        interval.max_ns = std::min(ceiling, max_ns);
        break;
      }
    }
    return interval;
  }

  double mean_ns() const noexcept {
    return count ? static_cast<double>(total_ns) / static_cast<double>(count) : 0.0;
  }

  // The q-quantile (0 <= q <= 1) as the midpoint of the bucket that holds it, clamped to
  // [min_ns, max_ns]; 0 when empty.
  std::uint64_t quantile_ns(double q) const noexcept {
    std::uint64_t bucket_total = 0;
    for (const auto c : buckets) bucket_total += c;
    if (bucket_total == 0) return 0;
    if (q <= 0.0) return min_ns;
    if (q >= 1.0) return max_ns;
    // The rank of the wanted value, counting from 1: the smallest r with r >= q * n.
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(bucket_total));
    if (static_cast<double>(rank) < q * static_cast<double>(bucket_total)) ++rank;
    if (rank == 0) rank = 1;
    std::uint64_t seen = 0;
    for (std::uint32_t b = 0; b < kDurationBuckets; ++b) {
      seen += buckets[b];
      if (seen >= rank) {
        const std::uint64_t low = duration_bucket_floor_ns(b);
        const std::uint64_t high =
            b + 1 < kDurationBuckets ? duration_bucket_floor_ns(b + 1) : low + 1;
        std::uint64_t middle = low + (high - low) / 2;
        if (max_ns && middle > max_ns) middle = max_ns;
        if (middle < min_ns) middle = min_ns;
        return middle;
      }
    }
    return max_ns;
  }
};

}  // namespace synthfarm
