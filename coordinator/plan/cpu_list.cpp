#include "coordinator/plan/cpu_list.h"

#include <algorithm>
#include <charconv>
#include <sstream>

namespace synthfarm {
namespace {

// Digits only (from_chars alone takes no sign, but "+1" and " 1" must fail too), 0 to
// kMaxCpuNumber.
std::optional<int> parse_cpu_number(std::string_view text) {
  int value = -1;
  const auto [end, failure] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || failure != std::errc() || end != text.data() + text.size() || value < 0 ||
      value > kMaxCpuNumber) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::optional<std::vector<int>> parse_cpu_list(std::string_view text, std::string& why) {
  std::vector<int> cpus;
  if (text.empty()) {
    why = "needs CPU numbers, e.g. 0,1 or 0-3";
    return std::nullopt;
  }
  while (true) {
    const std::size_t comma = text.find(',');
    const std::string_view part = text.substr(0, comma);
    const std::size_t dash = part.find('-');
    const auto first = parse_cpu_number(part.substr(0, dash));
    const auto last =
        dash == std::string_view::npos ? first : parse_cpu_number(part.substr(dash + 1));
    if (!first || !last) {
      // A stream, not "'" + std::string(...): GCC 12 wrongly warns (-Wrestrict) on the
      // inlined string concatenation here.
      std::ostringstream message;
      message << "'" << part << "' is not a CPU number (0 to " << kMaxCpuNumber
              << ") or a range of them like 0-3";
      why = message.str();
      return std::nullopt;
    }
    if (*last < *first) {
      why = "the range '" + std::string(part) + "' runs backwards; write it " +
            std::to_string(*last) + "-" + std::to_string(*first);
      return std::nullopt;
    }
    for (int cpu = *first; cpu <= *last; ++cpu) {
      if (std::find(cpus.begin(), cpus.end(), cpu) != cpus.end()) {
        why = "CPU " + std::to_string(cpu) + " is given twice";
        return std::nullopt;
      }
      cpus.push_back(cpu);
    }
    if (comma == std::string_view::npos) return cpus;
    text.remove_prefix(comma + 1);
  }
}

std::optional<int> first_cpu_not_allowed(const std::vector<int>& cpus, const cpu_set_t& allowed) {
  for (const int cpu : cpus) {
    if (cpu < 0 || cpu > kMaxCpuNumber || !CPU_ISSET(cpu, &allowed)) return cpu;
  }
  return std::nullopt;
}

std::string describe_cpu_set(const cpu_set_t& allowed) {
  std::string text;
  for (int cpu = 0; cpu <= kMaxCpuNumber; ++cpu) {
    if (!CPU_ISSET(cpu, &allowed)) continue;
    int last = cpu;
    while (last < kMaxCpuNumber && CPU_ISSET(last + 1, &allowed)) ++last;
    if (!text.empty()) text += ",";
    text += std::to_string(cpu);
    if (last > cpu) {
      text += '-';
      text += std::to_string(last);
    }
    cpu = last;
  }
  return text.empty() ? "none" : text;
}

}  // namespace synthfarm
