#pragma once
// The control FIFO's language: one command per line, words separated by blanks.
//   stop <worker|all>                        play <worker|all>
//   set <worker|all> feedback|mul <value>    gain <dB>
//   reseed <worker|all> <seed>               report FILE
//   status                                   quit
// Workers count from 0. A bad line is refused whole, with a message; nothing changes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "coordinator/control/control_protocol.h"  // kControlHelp, control_command_summary
#include "shared/parameter_ranges.h"

namespace synthfarm {

// The SineLoop parameters `set` changes, and the ranges it accepts (inclusive).
enum class WorkerParameter { kFeedback, kMul };

// Their ranges, and the master gain's, are in shared/parameter_ranges.h.

struct ControlCommand {
  enum class Verb { kStop, kPlay, kStatus, kQuit, kSet, kGain, kReseed, kReport };
  Verb verb = Verb::kStatus;
  std::optional<std::uint32_t> worker;  // stop, play, set, reseed; nullopt: all workers
  WorkerParameter parameter = WorkerParameter::kFeedback;  // set
  double value = 0.0;                                      // set: the parameter; gain: dB
  std::uint64_t seed = 0;                                  // reseed
  std::string path;                                        // report: as given, trimmed
};

// Pure. Returns the command, or a message that names the bad line and says what is accepted.
std::variant<ControlCommand, std::string> parse_control_line(std::string_view line,
                                                             std::uint32_t worker_count);

}  // namespace synthfarm
