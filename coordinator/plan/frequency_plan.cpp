#include "coordinator/plan/frequency_plan.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "coordinator/plan/python_random.h"

namespace synthfarm {

std::vector<WorkerGroup> deal_contiguous_groups(std::uint64_t oscillator_total,
                                                std::uint32_t worker_count) {
  std::vector<WorkerGroup> groups(worker_count);
  if (worker_count == 0) return groups;
  const std::uint64_t base = oscillator_total / worker_count;
  const std::uint64_t extra = oscillator_total % worker_count;
  std::uint64_t next = 0;
  for (std::uint32_t w = 0; w < worker_count; ++w) {
    groups[w].first_oscillator = next;
    groups[w].oscillator_count = static_cast<std::uint32_t>(base + (w < extra ? 1 : 0));
    next += groups[w].oscillator_count;
  }
  return groups;
}

std::vector<double> draw_frequencies_hz(std::uint64_t seed, std::uint64_t count, double min_hz,
                                        double max_hz) {
  PythonRandom random(seed);
  std::vector<double> frequencies(count);
  for (auto& frequency : frequencies) frequency = random.uniform(min_hz, max_hz);
  return frequencies;
}

std::optional<std::vector<double>> read_frequency_file(const std::string& path,
                                                       std::string& error) {
  std::ifstream file(path);
  if (!file) {
    error = "--freqs-file: cannot read '" + path + "': " + std::strerror(errno);
    return std::nullopt;
  }
  std::vector<double> frequencies;
  std::string line;
  for (std::size_t line_number = 1; std::getline(file, line); ++line_number) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    const auto last = line.find_last_not_of(" \t\r");
    const std::string text = line.substr(first, last - first + 1);
    errno = 0;
    char* end = nullptr;
    // strtod reads the shortest round-trip decimal of a double exactly, so frequencies written
    // by Python's repr() arrive as the same doubles pyo received.
    const double value = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(value)) {
      error = "--freqs-file: " + path + ":" + std::to_string(line_number) + ": '" + text +
              "' is not a frequency in Hz (one number per line)";
      return std::nullopt;
    }
    frequencies.push_back(value);
  }
  if (file.bad()) {
    error = "--freqs-file: error while reading '" + path + "'";
    return std::nullopt;
  }
  if (frequencies.empty()) {
    error = "--freqs-file: '" + path + "' holds no frequencies (one number in Hz per line)";
    return std::nullopt;
  }
  return frequencies;
}

}  // namespace synthfarm
