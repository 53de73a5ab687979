#include "coordinator/plan/frequency_plan.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "coordinator/plan/python_random.h"
#include "shared/number_text.h"

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

namespace {

// At most 80 bytes of a line, anything outside printable ASCII shown as '?'.
std::string printable_excerpt(std::string_view line) {
  constexpr std::size_t kMaxShown = 80;
  std::string shown;
  for (const char c : line.substr(0, kMaxShown)) {
    const auto byte = static_cast<unsigned char>(c);
    shown += (byte >= 0x20 && byte < 0x7f) ? c : '?';
  }
  if (line.size() > kMaxShown) shown += "...";
  return shown;
}

}  // namespace

std::optional<std::vector<double>> parse_frequency_text(std::string_view text,
                                                        std::string_view source,
                                                        std::string& error) {
  constexpr std::string_view kBlanks = " \t\r";
  std::vector<double> frequencies;
  std::size_t line_number = 0;
  for (std::size_t position = 0; position < text.size();) {
    const std::size_t newline = text.find('\n', position);
    const std::size_t line_end = newline == std::string_view::npos ? text.size() : newline;
    const std::string_view line = text.substr(position, line_end - position);
    position = line_end + 1;
    ++line_number;
    const auto first = line.find_first_not_of(kBlanks);
    if (first == std::string_view::npos || line[first] == '#') continue;
    const auto last = line.find_last_not_of(kBlanks);
    const std::string_view number = line.substr(first, last - first + 1);
    // strtod (inside) reads the shortest round-trip decimal of a double exactly, so frequencies
    // written by Python's repr() arrive as the same doubles pyo received.
    const std::optional<double> value = parse_finite_number(std::string(number));
    if (!value) {
      error = "--freqs-file: " + std::string(source) + ":" + std::to_string(line_number) + ": '" +
              printable_excerpt(number) + "' is not a frequency in Hz (one number per line)";
      return std::nullopt;
    }
    frequencies.push_back(*value);
  }
  if (frequencies.empty()) {
    error = "--freqs-file: '" + std::string(source) +
            "' holds no frequencies (one number in Hz per line)";
    return std::nullopt;
  }
  return frequencies;
}

std::optional<std::vector<double>> read_frequency_file(const std::string& path,
                                                       std::string& error) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    error = "--freqs-file: cannot read '" + path + "': " + std::strerror(errno);
    return std::nullopt;
  }
  // read() turns a failing read (a directory, an I/O error) into badbit, where reading through
  // rdbuf() would look like an empty file.
  std::string text;
  char chunk[1 << 16];
  while (file.read(chunk, sizeof chunk) || file.gcount() > 0) text.append(chunk, file.gcount());
  if (file.bad()) {
    error = "--freqs-file: error while reading '" + path + "'";
    return std::nullopt;
  }
  return parse_frequency_text(text, path, error);
}

}  // namespace synthfarm
