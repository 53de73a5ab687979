#pragma once
// What every synthfarm-bench report holds besides its rows, and where it goes: the machine and
// the load average at start and end (these numbers mean nothing without them), the table on
// stdout, the JSON report and the CSV rows in the files the user asked for.
//
// Thread: main. Allocates, reads /proc, writes files.

#include <nlohmann/json.hpp>

#include <cstdio>
#include <optional>
#include <string>
#include <utility>

#include "bench/bench_cli.h"
#include "bench/machine_info.h"
#include "bench/result_table.h"
#include "bench/synthfarm_process.h"

namespace synthfarm::bench {

// The three lines every table starts with: CPU and cores, SIMD target and kernel, load.
void print_machine(const MachineInfo& machine, const LoadAverage& start, const LoadAverage& end,
                   const std::string& kernel);

// The same facts as the report's "machine" object.
nlohmann::json machine_json(const MachineInfo& machine, const LoadAverage& start,
                            const LoadAverage& end);

// Writes `report` with the table's rows as its "results" to --json, and the rows to --csv,
// those that were asked for. Returns the exit code: a file that cannot be written is a failure
// (named on stderr with its reason), after both were tried.
int write_reports(const OutputFiles& files, nlohmann::json report, const ResultTable& table);

// What measure_with_synthfarm gives: the results, and what the report says about how.
template <typename Results>
struct SynthfarmMeasurement {
  Results results;
  std::string synthfarm;  // the binary that was measured
  LoadAverage load_start;
  LoadAverage load_end;
};

// Finds synthfarm beside this program and runs `measure(synthfarm, error)`, which returns
// std::optional<Results>, between two readings of the load average. A failure is reported on
// stderr and gives nullopt.
template <typename Measure>
auto measure_with_synthfarm(Measure measure) -> std::optional<SynthfarmMeasurement<
    typename decltype(measure(std::string(), std::declval<std::string&>()))::value_type>> {
  std::string error;
  const auto found = synthfarm_beside_self(error);
  if (!found) {
    std::fprintf(stderr, "synthfarm-bench: %s\n", error.c_str());
    return std::nullopt;
  }
  const LoadAverage load_start = read_load_average();
  auto results = measure(*found, error);
  const LoadAverage load_end = read_load_average();
  if (!results) {
    std::fprintf(stderr, "synthfarm-bench: %s\n", error.c_str());
    return std::nullopt;
  }
  return {{std::move(*results), *found, load_start, load_end}};
}

}  // namespace synthfarm::bench
