// synthfarm-bench throughput: strong then weak scaling, one row per scaling and worker count.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/bench_commands.h"
#include "bench/bench_report.h"
#include "bench/result_table.h"
#include "bench/throughput.h"

namespace synthfarm::bench {
namespace {

ResultTable throughput_table(const std::vector<ThroughputResult>& results,
                             const ThroughputOptions& options) {
  ResultTable table({
      {.name = "scaling", .align_left = true},
      {.name = "workers"},
      {.name = "sines_per_worker", .heading = "osc/worker"},
      {.name = "total_oscillators", .heading = "total osc"},
      {.name = "wall_seconds", .heading = "wall s", .decimals = 2},
      // The spread of the repeats: a range in the table, its ends in CSV, every sample in JSON.
      {.name = "wall_range", .heading = "wall range", .outputs = kText},
      {.name = "wall_min_seconds", .outputs = kCsv},
      {.name = "wall_max_seconds", .outputs = kCsv},
      {.name = "cpu_seconds", .heading = "CPU s", .decimals = 2},
      {.name = "speedup", .heading = "speed-up", .decimals = 2},
      {.name = "efficiency", .heading = "effic.", .decimals = 2},
      {.name = "oscillator_samples_per_second",
       .heading = "Mosc-smp/s",
       .decimals = 1,
       .text_scale = 1e-6},
      {.name = "repeats", .outputs = kCsv},
      {.name = "wall_samples", .outputs = kJson},
      {.name = "cpu_samples", .outputs = kJson},
  });
  for (const ThroughputResult& r : results) {
    // Oscillator-samples rendered per (median) wall second, startup included.
    const double rate = static_cast<double>(r.total_oscillators) * options.seconds *
                        options.sample_rate_hz / r.wall_seconds;
    const auto [wall_min, wall_max] =
        std::minmax_element(r.wall_samples.begin(), r.wall_samples.end());
    table.add_row()
        .set("scaling", r.scaling == Scaling::kStrong ? "strong" : "weak")
        .set("workers", r.workers)
        .set("sines_per_worker", r.sines_per_worker)
        .set("total_oscillators", r.total_oscillators)
        .set("wall_seconds", r.wall_seconds)
        .set("wall_range", range_text(*wall_min, *wall_max, 2))
        .set("wall_min_seconds", *wall_min)
        .set("wall_max_seconds", *wall_max)
        .set("cpu_seconds", r.cpu_seconds)
        .set("speedup", r.speedup)
        .set("efficiency", r.efficiency)
        .set("oscillator_samples_per_second", rate)
        .set("repeats", options.repeats)
        .set("wall_samples", r.wall_samples)
        .set("cpu_samples", r.cpu_samples);
  }
  return table;
}

}  // namespace

int run_throughput(ThroughputCommand command) {
  const MachineInfo machine = read_machine_info();
  ThroughputOptions& options = command.options;
  if (options.max_workers == 0) options.max_workers = 2 * machine.logical_cores;
  if (options.total_oscillators < options.max_workers) {
    std::fprintf(stderr, "synthfarm-bench: --oscillators %llu is fewer than the %u workers\n",
                 static_cast<unsigned long long>(options.total_oscillators), options.max_workers);
    return kExitUsage;
  }
  const auto measured = measure_with_synthfarm([&](const std::string& program, std::string& error) {
    return measure_throughput(options, program, machine.logical_cores, error);
  });
  if (!measured) return kExitFailure;
  const auto& [results, synthfarm, load_start, load_end] = *measured;
  const ResultTable table = throughput_table(results, options);

  print_machine(machine, load_start, load_end, options.kernel);
  std::printf(
      "measure:      %s --output TMP.wav --duration %g --seed 1: wall time around the "
      "process, CPU time from wait4 (synthfarm and its workers)\n",
      synthfarm.c_str(), options.seconds);
  std::printf(
      "repeats:      %u runs of each configuration, interleaved; medians, and the range of the "
      "wall times\n",
      options.repeats);
  std::printf(
      "speed-up:     oscillators per wall second relative to 1 worker (medians); efficiency = "
      "speed-up / min(W, %u cores)\n\n",
      machine.logical_cores);
  std::fputs(to_text_table(table).c_str(), stdout);
  return write_reports(command.files,
                       {{"benchmark", "throughput"},
                        {"machine", machine_json(machine, load_start, load_end)},
                        {"kernel", options.kernel},
                        {"seconds", options.seconds},
                        {"repeats", options.repeats},
                        {"max_workers", options.max_workers},
                        {"oscillators", options.total_oscillators},
                        {"per_worker", options.per_worker}},
                       table);
}

}  // namespace synthfarm::bench
