#pragma once
// `synthfarm-bench mix`: what the coordinator's Mixer costs per audio callback, against the
// number of workers and the block size. Each configuration runs on a real shared-memory
// Segment and Mixer built as the coordinator builds them for a sound device (ring plan of a
// real-time run, limit_output true); this thread plays every worker, writing one block into
// each ring before each callback like a punctual worker, and only the mix() call is timed.
//
// Thread: the caller's (not real-time). Allocates, creates shared memory, prints progress on
// stderr.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace synthfarm::bench {

struct MixCostOptions {
  std::vector<std::uint32_t> workers{1, 2, 4, 8, 16, 32, 64};
  std::vector<std::uint32_t> block_frames{64, 128, 256, 512};
  // Timed callbacks per configuration; nullopt: 20,000, fewer for large configurations (see
  // default_callbacks).
  std::optional<std::uint32_t> callbacks;
  std::uint32_t channels = 2;
  std::uint32_t sample_rate_hz = 48000;
};

struct MixCostResult {
  std::uint32_t workers = 0;
  std::uint32_t block_frames = 0;
  std::uint32_t callbacks = 0;  // timed ones; the warm-up calls before them are not counted
  double median_ns = 0.0;
  double p99_ns = 0.0;
  double max_ns = 0.0;
  double period_ns = 0.0;  // block_frames / sample rate
};

// The real-time budget issue 5 measures against: 70 % of the period, leaving the rest for the
// device driver and the scheduler.
inline constexpr double kBudgetShareOfPeriod = 0.7;

// 20,000 callbacks, fewer (down to 2,000) when workers x block frames exceeds a billion frames
// per configuration, so that a large sweep stays well under a minute. The default sweep takes
// about 2 s on a 2-core EPYC.
std::uint32_t default_callbacks(std::uint32_t workers, std::uint32_t block_frames);

// Runs one configuration. Returns nullopt and sets `error` when the segment cannot be made.
std::optional<MixCostResult> measure_mix_cost(std::uint32_t workers, std::uint32_t block_frames,
                                              std::uint32_t callbacks,
                                              const MixCostOptions& options, std::string& error);

}  // namespace synthfarm::bench
