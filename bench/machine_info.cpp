#include "bench/machine_info.h"

#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "shared/simd_target.h"

namespace synthfarm::bench {

MachineInfo read_machine_info() {
  MachineInfo info;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) != 0) continue;
    const auto colon = line.find(':');
    if (colon != std::string::npos)
      info.cpu_model = line.substr(line.find_first_not_of(' ', colon + 1));
    break;
  }
  if (info.cpu_model.empty()) info.cpu_model = "unknown CPU";
  info.logical_cores = std::max(1u, std::thread::hardware_concurrency());
  // usable_simd_targets() is never empty (the portable target runs anywhere).
  info.simd_target = std::string(usable_simd_targets().front().name);
  return info;
}

LoadAverage read_load_average() {
  LoadAverage load;
  std::ifstream file("/proc/loadavg");
  file >> load.one_minute >> load.five_minutes >> load.fifteen_minutes;
  if (!file) return {};
  return load;
}

std::string format_load(const LoadAverage& load) {
  char text[64];
  std::snprintf(text, sizeof text, "%.2f %.2f %.2f", load.one_minute, load.five_minutes,
                load.fifteen_minutes);
  return text;
}

}  // namespace synthfarm::bench
