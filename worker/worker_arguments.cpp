#include "worker/worker_arguments.h"

#include <array>
#include <charconv>
#include <limits>
#include <optional>
#include <string_view>

#include "shared/segment_layout.h"

namespace synthfarm {
namespace {

// Read by hand, not with Boost.Program_options: its error messages loop for ever on a word that
// holds one of their placeholders, such as --x%original_token% (found by tests/fuzz/
// worker_arguments_fuzzer), and the coordinator writes these four options in one fixed way.
constexpr const char* kUsage =
    "usage: synthfarm-worker --segment NAME [--segment-fd N] --index N --coordinator-pid PID\n"
    "Renders one group of oscillators for a synthfarm coordinator. `synthfarm` starts its\n"
    "workers; running one by hand is only useful for debugging.";

enum Option { kSegment, kSegmentFd, kIndex, kCoordinatorPid, kOptionCount };
constexpr std::array<std::string_view, kOptionCount> kOptionNames = {
    "--segment", "--segment-fd", "--index", "--coordinator-pid"};

// Digits only, within [min, max], or nothing: no sign, no blank, no exponent.
std::optional<std::uint64_t> whole_number(std::string_view text, std::uint64_t min,
                                          std::uint64_t max) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) return {};
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return {};
  }
  return value;
}

std::string usage_error(const std::string& why) {
  return "synthfarm-worker: " + why + "\n" + kUsage;
}

}  // namespace

std::variant<WorkerArguments, std::string> parse_worker_arguments(int argc,
                                                                  const char* const argv[]) {
  // Each option once, as `--option VALUE` or `--option=VALUE`.
  std::array<std::optional<std::string_view>, kOptionCount> values;
  for (int next = 1; next < argc; ++next) {
    const std::string_view word = argv[next];
    const std::string_view name = word.substr(0, word.find('='));
    std::size_t option = 0;
    while (option < kOptionCount && kOptionNames[option] != name) ++option;
    if (option == kOptionCount) {
      return usage_error("unknown argument '" + std::string(word) + "'");
    }
    if (values[option]) return usage_error(std::string(name) + " is given twice");
    if (name.size() < word.size()) {
      values[option] = word.substr(name.size() + 1);
    } else if (next + 1 < argc) {
      values[option] = std::string_view(argv[++next]);
    } else {
      return usage_error(std::string(name) + " needs a value");
    }
  }
  for (const Option required : {kSegment, kIndex, kCoordinatorPid}) {
    if (!values[required]) {
      return usage_error(std::string(kOptionNames[required]) + " is required");
    }
  }
  const auto bad = [&](Option option, const std::string& why) {
    return usage_error(std::string(kOptionNames[option]) + " '" + std::string(*values[option]) +
                       "': " + why);
  };

  WorkerArguments arguments;
  arguments.segment_name = std::string(*values[kSegment]);
  // A name starting with '-' would read as an option where the coordinator writes it as a word
  // of its own; '/' is not allowed in a shared memory name.
  if (arguments.segment_name.empty() || arguments.segment_name.front() == '-' ||
      arguments.segment_name.find('/') != std::string::npos) {
    return bad(kSegment, "not a shared memory segment name");
  }
  if (values[kSegmentFd]) {
    const auto descriptor = whole_number(*values[kSegmentFd], 0, std::numeric_limits<int>::max());
    if (!descriptor) return bad(kSegmentFd, "not a file descriptor");
    arguments.segment_descriptor = static_cast<int>(*descriptor);
  }
  const auto index = whole_number(*values[kIndex], 0, kMaxWorkers - 1);
  if (!index) {
    return bad(kIndex, "not a worker slot (0 to " + std::to_string(kMaxWorkers - 1) + ")");
  }
  arguments.worker_index = static_cast<std::uint32_t>(*index);
  // Not 0 or 1: a worker whose parent is init has lost its coordinator.
  const auto pid = whole_number(*values[kCoordinatorPid], 2, std::numeric_limits<pid_t>::max());
  if (!pid) return bad(kCoordinatorPid, "not the pid of a coordinator");
  arguments.coordinator_pid = static_cast<pid_t>(*pid);
  return arguments;
}

}  // namespace synthfarm
