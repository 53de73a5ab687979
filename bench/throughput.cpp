#include "bench/throughput.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "bench/synthfarm_process.h"

namespace synthfarm::bench {
namespace {

// One offline render; the WAV goes to the temporary directory and is deleted.
std::optional<FinishedRun> render_offline(const std::string& synthfarm, std::uint32_t workers,
                                          std::uint32_t sines, const ThroughputOptions& options,
                                          std::string& error) {
  const std::string name = unique_run_name();
  const std::filesystem::path wav = std::filesystem::temp_directory_path() / (name + ".wav");
  char seconds_text[32];
  std::snprintf(seconds_text, sizeof seconds_text, "%g", options.seconds);
  auto run = run_synthfarm(synthfarm,
                           {"--workers", std::to_string(workers), "--sines", std::to_string(sines),
                            "--seed", "1", "--output", wav.string(), "--duration", seconds_text,
                            "--kernel", options.kernel, "--name", name},
                           error);
  std::error_code ignored;
  std::filesystem::remove(wav, ignored);
  return run;
}

}  // namespace

double median_of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  return values.size() % 2 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

std::optional<std::vector<ThroughputResult>> measure_throughput(const ThroughputOptions& options,
                                                                const std::string& synthfarm,
                                                                unsigned cores,
                                                                std::string& error) {
  std::vector<ThroughputResult> results;
  for (const Scaling scaling : {Scaling::kStrong, Scaling::kWeak}) {
    for (std::uint32_t workers = 1; workers <= options.max_workers; ++workers) {
      ThroughputResult result;
      result.scaling = scaling;
      result.workers = workers;
      result.sines_per_worker = scaling == Scaling::kWeak
                                    ? options.per_worker
                                    : static_cast<std::uint32_t>(std::max<std::uint64_t>(
                                          1, (options.total_oscillators + workers / 2) / workers));
      result.total_oscillators = std::uint64_t{workers} * result.sines_per_worker;
      results.push_back(result);
    }
  }
  for (std::uint32_t repeat = 1; repeat <= options.repeats; ++repeat) {
    for (ThroughputResult& result : results) {
      std::fprintf(stderr,
                   "synthfarm-bench: run %u of %u, %s scaling, %u worker(s) x %u oscillators...\n",
                   repeat, options.repeats, result.scaling == Scaling::kStrong ? "strong" : "weak",
                   result.workers, result.sines_per_worker);
      const auto times =
          render_offline(synthfarm, result.workers, result.sines_per_worker, options, error);
      if (!times) return std::nullopt;
      result.wall_samples.push_back(times->wall_seconds);
      result.cpu_samples.push_back(times->cpu_seconds);
    }
  }
  double rate_of_one_worker = 0.0;  // oscillator-samples per wall second, of this scaling
  for (ThroughputResult& result : results) {
    result.wall_seconds = median_of(result.wall_samples);
    result.cpu_seconds = median_of(result.cpu_samples);
    const double rate = static_cast<double>(result.total_oscillators) / result.wall_seconds;
    if (result.workers == 1) rate_of_one_worker = rate;
    result.speedup = rate / rate_of_one_worker;
    result.efficiency = result.speedup / std::min<double>(result.workers, cores);
  }
  return results;
}

}  // namespace synthfarm::bench
