#pragma once
// The control FIFO's language: one command per line.
//   stop <worker|all>   play <worker|all>   status   quit

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace synthfarm {

struct ControlCommand {
  enum class Verb { kStop, kPlay, kStatus, kQuit };
  Verb verb = Verb::kStatus;
  std::optional<std::uint32_t> worker;  // nullopt: all workers
};

inline constexpr const char* kControlHelp =
    "commands: stop <worker|all>, play <worker|all>, status, quit";

// Pure. Returns the command, or a message that names the bad line and says what is accepted.
std::variant<ControlCommand, std::string> parse_control_line(std::string_view line,
                                                             std::uint32_t worker_count);

}  // namespace synthfarm
