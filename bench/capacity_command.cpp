// synthfarm-bench capacity: the searches of every worker count, one row per worker count (the
// median search, with every search beside it in JSON).
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_commands.h"
#include "bench/bench_report.h"
#include "bench/capacity.h"
#include "bench/result_table.h"

namespace synthfarm::bench {
namespace {

// The searches of one worker count, in run order: JSON only (CSV counts them).
std::shared_ptr<const ResultTable> searches_table(const std::vector<CapacityResult>& results,
                                                  std::uint32_t workers) {
  auto table = std::make_shared<ResultTable>(std::vector<Column>{
      {.name = "repeat"},
      {.name = "capacity"},
      {.name = "sines_per_worker"},
      {.name = "first_failure"},
      {.name = "probes"},
      {.name = "wall_seconds"},
  });
  for (const CapacityResult& search : results) {
    if (search.workers != workers) continue;
    table->add_row()
        .set("repeat", search.repeat)
        .set("capacity", search.capacity)
        .set("sines_per_worker", search.sines_per_worker)
        .set("first_failure", search.first_failure)
        .set("probes", search.probes)
        .set("wall_seconds", search.wall_seconds);
  }
  return table;
}

ResultTable capacity_table(const std::vector<CapacityResult>& results) {
  ResultTable table({
      {.name = "workers"},
      {.name = "capacity"},
      {.name = "range", .outputs = kText},
      {.name = "capacity_min", .outputs = kJson | kCsv},
      {.name = "capacity_max", .outputs = kJson | kCsv},
      {.name = "searches", .outputs = kJson | kCsv},
      {.name = "capacities", .outputs = kJson},
      {.name = "sines_per_worker", .heading = "per worker"},
      {.name = "first_failure", .heading = "failed at", .zero_text = "none"},
      {.name = "probes"},
      // At the median search's capacity; missing when no probe passed.
      {.name = "callbacks", .outputs = kJson},
      {.name = "callback_avg_us", .outputs = kJson | kCsv},
      {.name = "callback_max_us", .outputs = kJson | kCsv},
      {.name = "period_us", .outputs = kJson | kCsv},
      {.name = "callback_avg_share_of_period",
       .heading = "cb avg%",
       .decimals = 2,
       .text_scale = 100},
      {.name = "callback_max_share_of_period",
       .heading = "cb max%",
       .decimals = 2,
       .text_scale = 100},
      {.name = "render_load_avg_percent", .heading = "load avg", .decimals = 1, .text_suffix = "%"},
      {.name = "render_load_max_percent", .heading = "load max", .decimals = 1, .text_suffix = "%"},
      {.name = "late_blocks", .outputs = kJson},
      // All searches of the worker count together.
      {.name = "wall_seconds", .heading = "wall s", .decimals = 1},
  });
  for (const CapacitySummary& summary : summarize_capacity(results)) {
    const CapacityResult& r = summary.median_search;
    double wall_seconds = 0.0;
    std::uint64_t probes = 0;
    for (const CapacityResult& search : results) {
      if (search.workers != summary.workers) continue;
      wall_seconds += search.wall_seconds;
      probes += search.probes;
    }
    auto row = table.add_row();
    row.set("workers", r.workers)
        .set("capacity", summary.median)
        .set("range",
             range_text(static_cast<double>(summary.min), static_cast<double>(summary.max), 0))
        .set("capacity_min", summary.min)
        .set("capacity_max", summary.max)
        .set("searches", searches_table(results, summary.workers))
        .set("capacities", summary.capacities)
        .set("sines_per_worker", r.sines_per_worker)
        .set("first_failure", r.first_failure)
        .set("probes", probes)
        .set("wall_seconds", wall_seconds);
    if (const auto& at = r.at_capacity) {
      row.set("callbacks", at->callbacks)
          .set("callback_avg_us", at->callback_avg_us)
          .set("callback_max_us", at->callback_max_us)
          .set("period_us", at->period_us)
          .set("callback_avg_share_of_period", at->callback_avg_us / at->period_us)
          .set("callback_max_share_of_period", at->callback_max_us / at->period_us)
          .set("render_load_avg_percent", at->render_load_avg_percent)
          .set("render_load_max_percent", at->render_load_max_percent)
          .set("late_blocks", at->late_blocks);
    }
  }
  return table;
}

}  // namespace

int run_capacity(CapacityCommand command) {
  const MachineInfo machine = read_machine_info();
  CapacityOptions& options = command.options;
  if (options.workers.empty()) {
    for (std::uint32_t workers = 1; workers <= 2 * machine.logical_cores; ++workers) {
      options.workers.push_back(workers);
    }
  }
  for (const std::uint32_t workers : options.workers) {
    if (options.max_oscillators < workers) {
      std::fprintf(stderr, "synthfarm-bench: --max-oscillators %llu is fewer than %u workers\n",
                   static_cast<unsigned long long>(options.max_oscillators), workers);
      return kExitUsage;
    }
  }
  const auto measured = measure_with_synthfarm([&](const std::string& program, std::string& error) {
    return measure_capacity(options, program, error);
  });
  if (!measured) return kExitFailure;
  const auto& [results, synthfarm, load_start, load_end] = *measured;
  const ResultTable table = capacity_table(results);

  print_machine(machine, load_start, load_end, options.kernel);
  std::printf(
      "measure:      %s --audio null --duration %g --seed 1 (48 kHz, 256-frame buffers); a "
      "probe passes with 0 underrun frames and 0 device underflows\n",
      synthfarm.c_str(), options.seconds);
  std::printf(
      "search:       from %llu in total, doubling to at most %llu, then bisecting to within "
      "%g %%; %u searches per worker count, interleaved; a count fails after %u failed "
      "probes in a row\n\n",
      static_cast<unsigned long long>(options.start_oscillators),
      static_cast<unsigned long long>(options.max_oscillators), 100 * options.precision,
      options.repeats, options.attempts);
  std::fputs(to_text_table(table).c_str(), stdout);
  std::printf(
      "\ncapacity: total oscillators of the largest passing probe, median of the searches (range: "
      "lowest-highest); failed at: the smallest failing one of the median search (none: the "
      "maximum passed).\ncb avg%%, cb max%%: the callback's time as a share of the period at the "
      "median search's capacity; load: the workers' render_load there (mean, busiest); -: no "
      "probe passed. probes and wall s: all searches together.\n");
  return write_reports(command.files,
                       {{"benchmark", "capacity"},
                        {"machine", machine_json(machine, load_start, load_end)},
                        {"kernel", options.kernel},
                        {"seconds", options.seconds},
                        {"repeats", options.repeats},
                        {"attempts", options.attempts},
                        {"sample_rate_hz", 48000},
                        {"block_frames", 256},
                        {"start_oscillators", options.start_oscillators},
                        {"max_oscillators", options.max_oscillators},
                        {"precision", options.precision}},
                       table);
}

}  // namespace synthfarm::bench
