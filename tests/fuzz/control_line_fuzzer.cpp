// Fuzz target: the control FIFO's grammar, parse_control_line (coordinator/control/
// control_command.h). Input: one byte, the worker count less one (1 to 256 workers, the
// command line's range), then the line.
//
// Properties: a refused line gets a message that is one printable line (it is sent back as a
// line of ctl's reply, and a line break in it could forge the reply's last line); an accepted
// command holds only values its verb allows; and it reads back the same from the text the
// command would be written as.

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <string>

#include "coordinator/control/control_command.h"
#include "shared/parameter_ranges.h"
#include "tests/fuzz/fuzz_support.h"

namespace synthfarm {
namespace {

using Verb = ControlCommand::Verb;

std::string worker_text(const ControlCommand& command) {
  return command.worker ? std::to_string(*command.worker) : "all";
}

std::string number_text(double value) {
  char text[40];
  std::snprintf(text, sizeof text, "%.17g", value);  // round-trips every double
  return text;
}

// The line a user would type for `command`.
std::string line_of(const ControlCommand& command) {
  switch (command.verb) {
    case Verb::kStop:
      return "stop " + worker_text(command);
    case Verb::kPlay:
      return "play " + worker_text(command);
    case Verb::kStatus:
      return "status";
    case Verb::kQuit:
      return "quit";
    case Verb::kSet:
      return "set " + worker_text(command) +
             (command.parameter == WorkerParameter::kFeedback ? " feedback " : " mul ") +
             number_text(command.value);
    case Verb::kGain:
      return "gain " + number_text(command.value);
    case Verb::kReseed:
      return "reseed " + worker_text(command) + " " + std::to_string(command.seed);
    case Verb::kReport:
      return "report " + command.path;
  }
  FUZZ_CHECK(!"a verb the grammar does not have");
  return {};
}

bool same(const ControlCommand& a, const ControlCommand& b) {
  return a.verb == b.verb && a.worker == b.worker && a.parameter == b.parameter &&
         a.value == b.value && a.seed == b.seed && a.path == b.path;
}

void check_command(const ControlCommand& command, std::uint32_t worker_count) {
  if (command.worker) FUZZ_CHECK(*command.worker < worker_count);
  FUZZ_CHECK(std::isfinite(command.value));
  switch (command.verb) {
    case Verb::kSet:
      if (command.parameter == WorkerParameter::kFeedback) {
        FUZZ_CHECK(command.value >= kMinFeedback && command.value <= kMaxFeedback);
      } else {
        FUZZ_CHECK(command.value >= kMinMul && command.value <= kMaxMul);
      }
      FUZZ_CHECK(!std::signbit(command.value) || command.value != 0.0);  // -0 is taken as 0
      break;
    case Verb::kGain:
      FUZZ_CHECK(command.value >= kMinGainDb && command.value <= kMaxGainDb);
      FUZZ_CHECK(!std::signbit(command.value) || command.value != 0.0);
      break;
    case Verb::kReport: {
      // Trimmed, never empty: the file name as given.
      const std::string& path = command.path;
      FUZZ_CHECK(!path.empty());
      FUZZ_CHECK(std::string(" \t\r").find(path.front()) == std::string::npos);
      FUZZ_CHECK(std::string(" \t\r").find(path.back()) == std::string::npos);
      break;
    }
    default:
      break;
  }
}

}  // namespace
}  // namespace synthfarm

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace synthfarm;
  if (size == 0) return 0;
  const std::uint32_t worker_count = 1u + data[0];
  const std::string_view line = fuzz::as_text(data + 1, size - 1);

  const auto parsed = parse_control_line(line, worker_count);
  if (const auto* message = std::get_if<std::string>(&parsed)) {
    FUZZ_CHECK(message->rfind("control: '", 0) == 0);
    FUZZ_CHECK(fuzz::is_printable(*message));
    return 0;
  }
  const ControlCommand& command = std::get<ControlCommand>(parsed);
  check_command(command, worker_count);

  const auto again = parse_control_line(line_of(command), worker_count);
  const auto* reread = std::get_if<ControlCommand>(&again);
  FUZZ_CHECK(reread != nullptr);
  FUZZ_CHECK(same(*reread, command));
  return 0;
}
