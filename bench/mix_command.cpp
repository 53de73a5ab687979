// synthfarm-bench mix: measure every (block, workers) pair, then one row per pair.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/bench_commands.h"
#include "bench/bench_report.h"
#include "bench/mix_cost.h"
#include "bench/result_table.h"

namespace synthfarm::bench {
namespace {

// A share of the period or of the budget: a fraction in CSV, a percentage in the table. JSON
// has the period and the budget instead (scripts/plot-scaling reads the nanoseconds).
Column share(std::string name, std::string heading) {
  return {.name = std::move(name),
          .heading = std::move(heading),
          .decimals = 3,
          .text_scale = 100,
          .outputs = kText | kCsv};
}

ResultTable mix_table(const std::vector<MixCostResult>& results) {
  ResultTable table({
      {.name = "workers"},
      {.name = "block_frames", .heading = "block"},
      {.name = "callbacks"},
      {.name = "median_ns", .heading = "median ns"},
      {.name = "p99_ns", .heading = "p99 ns"},
      {.name = "max_ns", .heading = "max ns"},
      {.name = "period_ns", .outputs = kJson | kCsv},
      {.name = "budget_ns", .outputs = kJson},
      share("median_share_of_period", "med %per"),
      share("p99_share_of_period", "p99 %per"),
      share("max_share_of_period", "max %per"),
      share("p99_share_of_budget", "p99 %bud"),
      share("max_share_of_budget", "max %bud"),
  });
  for (const MixCostResult& r : results) {
    const double budget_ns = kBudgetShareOfPeriod * r.period_ns;
    table.add_row()
        .set("workers", r.workers)
        .set("block_frames", r.block_frames)
        .set("callbacks", r.callbacks)
        .set("median_ns", r.median_ns)
        .set("p99_ns", r.p99_ns)
        .set("max_ns", r.max_ns)
        .set("period_ns", r.period_ns)
        .set("budget_ns", budget_ns)
        .set("median_share_of_period", r.median_ns / r.period_ns)
        .set("p99_share_of_period", r.p99_ns / r.period_ns)
        .set("max_share_of_period", r.max_ns / r.period_ns)
        .set("p99_share_of_budget", r.p99_ns / budget_ns)
        .set("max_share_of_budget", r.max_ns / budget_ns);
  }
  return table;
}

}  // namespace

int run_mix(const MixCommand& command) {
  const MachineInfo machine = read_machine_info();
  const LoadAverage load_start = read_load_average();
  std::vector<MixCostResult> results;
  for (const std::uint32_t block : command.options.block_frames) {
    for (const std::uint32_t workers : command.options.workers) {
      const std::uint32_t callbacks =
          command.options.callbacks.value_or(default_callbacks(workers, block));
      std::fprintf(stderr, "synthfarm-bench: mix, %u worker(s), block %u, %u callbacks...\n",
                   workers, block, callbacks);
      std::string error;
      const auto result = measure_mix_cost(workers, block, callbacks, command.options, error);
      if (!result) {
        std::fprintf(stderr, "synthfarm-bench: mix with %u workers, block %u: %s\n", workers, block,
                     error.c_str());
        return kExitFailure;
      }
      results.push_back(*result);
    }
  }
  const LoadAverage load_end = read_load_average();
  const ResultTable table = mix_table(results);

  print_machine(machine, load_start, load_end, "not used (mixing only)");
  std::printf(
      "measure:      steady_clock around each Mixer::mix call; 2 channels, 48 kHz, "
      "output limited; budget = %.0f %% of the period\n\n",
      100 * kBudgetShareOfPeriod);
  std::fputs(to_text_table(table).c_str(), stdout);
  std::printf("\n%%per: share of the period (block / 48000 s); %%bud: share of the budget.\n");
  return write_reports(command.files,
                       {{"benchmark", "mix"},
                        {"machine", machine_json(machine, load_start, load_end)},
                        {"sample_rate_hz", command.options.sample_rate_hz},
                        {"channels", command.options.channels},
                        {"budget_share_of_period", kBudgetShareOfPeriod}},
                       table);
}

}  // namespace synthfarm::bench
