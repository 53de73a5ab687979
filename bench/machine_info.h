#pragma once
// What a benchmark report states about the machine it ran on, so that numbers from different
// runs and machines are never compared blind: CPU model, logical cores, SIMD target, load.
//
// Thread: any non-real-time thread. Reads /proc; allocates.

#include <string>

namespace synthfarm::bench {

struct LoadAverage {
  double one_minute = 0.0;
  double five_minutes = 0.0;
  double fifteen_minutes = 0.0;
};

struct MachineInfo {
  std::string cpu_model;       // /proc/cpuinfo "model name" of the first CPU, or "unknown CPU"
  unsigned logical_cores = 0;  // online CPUs (std::thread::hardware_concurrency, at least 1)
  std::string simd_target;  // the best SIMD target this CPU runs (what synthfarm uses by default)
};

MachineInfo read_machine_info();

// /proc/loadavg; zeros when it cannot be read: a missing load average is not worth failing a
// benchmark over.
LoadAverage read_load_average();

// "0.52 0.31 0.20".
std::string format_load(const LoadAverage& load);

}  // namespace synthfarm::bench
