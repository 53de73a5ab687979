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

namespace synthfarm {

// The SineLoop parameters `set` changes, and the ranges it accepts (inclusive).
enum class WorkerParameter { kFeedback, kMul };

// pyo clips feedback to [0, 1]; refusing what it would clip tells the user at once.
inline constexpr double kMinFeedback = 0.0;
inline constexpr double kMaxFeedback = 1.0;
// The command line's --mul range, so `set` accepts exactly what a run can start with. A
// negative mul flips the polarity, as in pyo. Beyond 1000 a single oscillator (peak 1) reaches
// +60 dBFS: the device output is limited to ±1 anyway, and files are written unclipped.
inline constexpr double kMinMul = -1000.0;
inline constexpr double kMaxMul = 1000.0;
// `gain` takes the master stage's range, MasterStage::kMinGainDb to kMaxGainDb.

struct ControlCommand {
  enum class Verb { kStop, kPlay, kStatus, kQuit, kSet, kGain, kReseed, kReport };
  Verb verb = Verb::kStatus;
  std::optional<std::uint32_t> worker;  // stop, play, set, reseed; nullopt: all workers
  WorkerParameter parameter = WorkerParameter::kFeedback;  // set
  double value = 0.0;                                      // set: the parameter; gain: dB
  std::uint64_t seed = 0;                                  // reseed
  std::string path;                                        // report: as given, trimmed
};

inline constexpr const char* kControlHelp =
    "commands: stop <worker|all>, play <worker|all>, set <worker|all> feedback|mul <value>, "
    "gain <dB>, reseed <worker|all> <seed>, report FILE, status, quit";

// Pure. Returns the command, or a message that names the bad line and says what is accepted.
std::variant<ControlCommand, std::string> parse_control_line(std::string_view line,
                                                             std::uint32_t worker_count);

}  // namespace synthfarm
