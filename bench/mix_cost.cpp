#include "bench/mix_cost.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <vector>

#include "coordinator/mix/mixer.h"
#include "coordinator/mix/ring_plan.h"
#include "shared/segment.h"

namespace synthfarm::bench {
namespace {

double percentile(const std::vector<std::int64_t>& sorted, double share) {
  // Nearest rank: the smallest value at or above `share` of the samples.
  const auto rank = static_cast<std::size_t>(std::ceil(share * static_cast<double>(sorted.size())));
  return static_cast<double>(sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1]);
}

}  // namespace

std::uint32_t default_callbacks(std::uint32_t workers, std::uint32_t block_frames) {
  // At most about a billion frames mixed per configuration (a mixed frame costs well under a
  // nanosecond per worker here, so the default sweep takes seconds and every default
  // configuration gets the full 20,000); never fewer than 2,000 calls, so that the 99th
  // percentile rests on at least 20 samples above it.
  constexpr std::uint64_t kFramesPerConfiguration = 1'000'000'000;
  const std::uint64_t frames_per_call = std::uint64_t{workers} * block_frames;
  return static_cast<std::uint32_t>(
      std::clamp<std::uint64_t>(kFramesPerConfiguration / frames_per_call, 2'000, 20'000));
}

std::optional<MixCostResult> measure_mix_cost(std::uint32_t workers, std::uint32_t block_frames,
                                              std::uint32_t callbacks,
                                              const MixCostOptions& options, std::string& error) {
  // Unique per process and configuration; removed at once, so a crash leaves nothing behind.
  static std::atomic<unsigned> sequence{0};
  const std::string name = "synthfarm-bench-mix-" + std::to_string(getpid()) + "-" +
                           std::to_string(sequence.fetch_add(1));
  const RingPlan plan = plan_rings(block_frames, /*offline=*/false);
  const std::uint32_t ring_frames = plan.ring_frames;
  const std::uint32_t fill_target_frames = plan.fill_target_frames;
  std::optional<Segment> segment =
      Segment::create(name, workers, options.channels, ring_frames, workers, error);
  if (!segment) return std::nullopt;
  if (!Segment::remove_name(name, error)) return std::nullopt;
  SegmentHeader& header = segment->header();
  header.sample_rate_hz = options.sample_rate_hz;
  header.block_frames = block_frames;
  header.fill_target_frames = fill_target_frames;
  header.coordinator_pid = getpid();
  for (std::uint32_t w = 0; w < workers; ++w) segment->frequencies_hz()[w] = 440.0 + w;

  // Device output: the master stage limits to ±1, as for a sound card.
  Mixer mixer(*segment, /*limit_output=*/true);

  // One block of a quiet sine (normal floats, no denormals), written by every "worker".
  std::vector<float> block(std::size_t{block_frames} * options.channels);
  for (std::size_t i = 0; i < block.size(); ++i) {
    block[i] = 0.01f * std::sin(0.05f * static_cast<float>(i / options.channels));
  }
  std::vector<float> out(block.size(), 0.0f);
  std::vector<SpscRing> rings;
  for (std::uint32_t w = 0; w < workers; ++w) rings.push_back(segment->ring(w));
  // The prefill the coordinator waits for before it starts the output.
  for (SpscRing& ring : rings) {
    for (std::uint32_t f = 0; f < fill_target_frames; f += block_frames) {
      ring.write(block.data(), block_frames);
    }
  }

  // Warm-up, untimed: the master fade-in, first touches of the rings' pages and the caches.
  const std::uint32_t warm_up = std::max(200u, callbacks / 10);
  std::vector<std::int64_t> durations_ns(callbacks);
  for (std::uint32_t call = 0; call < warm_up + callbacks; ++call) {
    for (SpscRing& ring : rings) ring.write(block.data(), block_frames);
    const auto start = std::chrono::steady_clock::now();
    mixer.mix(out.data(), block_frames);
    const auto end = std::chrono::steady_clock::now();
    if (call >= warm_up) {
      durations_ns[call - warm_up] =
          std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count();
    }
  }

  std::sort(durations_ns.begin(), durations_ns.end());
  MixCostResult result;
  result.workers = workers;
  result.block_frames = block_frames;
  result.callbacks = callbacks;
  result.median_ns = percentile(durations_ns, 0.5);
  result.p99_ns = percentile(durations_ns, 0.99);
  result.max_ns = static_cast<double>(durations_ns.back());
  result.period_ns = 1e9 * block_frames / options.sample_rate_hz;
  return result;
}

}  // namespace synthfarm::bench
