#include "bench/bench_report.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "bench/bench_commands.h"

namespace synthfarm::bench {
namespace {

bool write_text(const std::string& path, const std::string& text, const char* what) {
  std::ofstream file(path);
  file << text;
  file.close();
  if (!file) {
    std::fprintf(stderr, "synthfarm-bench: cannot write --%s %s: %s\n", what, path.c_str(),
                 std::strerror(errno));
    return false;
  }
  return true;
}

}  // namespace

void print_machine(const MachineInfo& machine, const LoadAverage& start, const LoadAverage& end,
                   const std::string& kernel) {
  std::printf("machine:      %s, %u logical CPUs\n", machine.cpu_model.c_str(),
              machine.logical_cores);
  std::printf("SIMD target:  %s (the best this CPU runs); kernel: %s\n",
              machine.simd_target.c_str(), kernel.c_str());
  std::printf("load average: %s at start, %s at end (1, 5, 15 minutes)\n",
              format_load(start).c_str(), format_load(end).c_str());
}

nlohmann::json machine_json(const MachineInfo& machine, const LoadAverage& start,
                            const LoadAverage& end) {
  const auto load = [](const LoadAverage& l) {
    return nlohmann::json::array({l.one_minute, l.five_minutes, l.fifteen_minutes});
  };
  return {{"cpu_model", machine.cpu_model},
          {"logical_cores", machine.logical_cores},
          {"simd_target", machine.simd_target},
          {"load_average_start", load(start)},
          {"load_average_end", load(end)}};
}

int write_reports(const OutputFiles& files, nlohmann::json report, const ResultTable& table) {
  bool written = true;
  if (!files.json.empty()) {
    report["results"] = to_json(table);
    written = write_text(files.json, report.dump(2) + "\n", "json");
  }
  if (!files.csv.empty()) written = write_text(files.csv, to_csv(table), "csv") && written;
  return written ? kExitSuccess : kExitFailure;
}

}  // namespace synthfarm::bench
