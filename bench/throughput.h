#pragma once
// `synthfarm-bench throughput`: strong and weak scaling of the whole program. For each worker
// count the real `synthfarm` binary (beside this executable) renders offline into a temporary
// WAV file, which is deleted afterwards; wall time is measured around the child and CPU time
// comes from wait4's rusage (the coordinator reaps its workers, so theirs is included).
//
// Thread: the caller's (not real-time). Spawns processes, writes temporary files, prints
// progress on stderr.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace synthfarm::bench {

enum class Scaling { kStrong, kWeak };

struct ThroughputOptions {
  std::uint32_t max_workers = 0;              // 0: 2 x logical cores
  std::uint64_t total_oscillators = 200'000;  // strong scaling: split over the workers
  std::uint32_t per_worker = 50'000;          // weak scaling: oscillators of each worker
  double seconds = 5.0;                       // rendered audio per run (synthfarm --duration)
  std::string kernel = "fast";                // synthfarm --kernel: fast or exact
  std::uint32_t sample_rate_hz = 48000;       // synthfarm's default; for oscillator-sample rates
  // Runs of every configuration. They are interleaved (all configurations once, then again),
  // so that a slow drift of the machine's load touches every worker count alike.
  std::uint32_t repeats = 3;
};

struct ThroughputResult {
  Scaling scaling = Scaling::kStrong;
  std::uint32_t workers = 0;
  std::uint32_t sines_per_worker = 0;
  std::uint64_t total_oscillators = 0;  // workers x sines_per_worker, as actually rendered
  // Medians over the repeats; the samples themselves, in run order, beside them.
  double wall_seconds = 0.0;
  double cpu_seconds = 0.0;  // user + system of synthfarm and its reaped workers
  std::vector<double> wall_samples;
  std::vector<double> cpu_samples;
  // Oscillator-samples per wall second relative to the 1-worker run of the same scaling, from
  // the median wall times. For
  // strong scaling (same work) that is the usual T1 / TW, corrected for the rounding of the
  // total; for weak scaling (W times the work) it is the scaled speed-up W x T1 / TW.
  double speedup = 0.0;
  // speedup / min(W, cores): 1 is perfect; beyond the core count, more workers cannot add
  // cores, so the ideal speed-up stays at the core count.
  double efficiency = 0.0;
};

// The median of a non-empty list (the mean of the middle two for an even count).
double median_of(std::vector<double> values);

// Runs both sweeps, strong first, `repeats` times. Returns nullopt and sets `error` on the first
// failed run (with the tail of synthfarm's output).
std::optional<std::vector<ThroughputResult>> measure_throughput(const ThroughputOptions& options,
                                                                const std::string& synthfarm,
                                                                unsigned cores, std::string& error);

}  // namespace synthfarm::bench
