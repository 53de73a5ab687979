#pragma once
// The OSC address space of the control commands, and its mapping onto the FIFO's grammar.
//
//   /synthfarm/stop    worker                 worker: int32 index, or the string "all"
//   /synthfarm/play    worker
//   /synthfarm/set     worker "feedback"|"mul" value     value: float32 or float64
//   /synthfarm/gain    dB                     float32 or float64
//   /synthfarm/reseed  worker seed            seed: int32, int64 or a string of digits
//   /synthfarm/status  /synthfarm/quit        no arguments
//   /synthfarm/report  path                   string
//
// A message is checked here for its address and its argument count and types only; it is then
// written as the FIFO line it stands for ("set 0 feedback 0.25") and parsed by
// parse_control_line, so that worker bounds, ranges and seeds are checked by the one grammar,
// with the same messages. Every message is answered once, to its sender, with
//   /synthfarm/reply  <the message's address> <1 ok, 0 refused or failed> <the FIFO's text>
// (see osc_server.h for what is never answered).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "coordinator/control/control_command.h"
#include "coordinator/control/osc_message.h"

namespace synthfarm {

inline constexpr std::string_view kOscAddressPrefix = "/synthfarm/";
inline constexpr std::string_view kOscReplyAddress = "/synthfarm/reply";

// Thread: any. Everything below is pure: no I/O; allocates only what it returns.

// The addresses in one line, for messages about a bad address.
inline constexpr const char* kOscHelp =
    "addresses: /synthfarm/stop <worker|\"all\">, /synthfarm/play <worker|\"all\">, "
    "/synthfarm/set <worker|\"all\"> \"feedback\"|\"mul\" <float>, /synthfarm/gain <float dB>, "
    "/synthfarm/reseed <worker|\"all\"> <seed>, /synthfarm/report <path>, /synthfarm/status, "
    "/synthfarm/quit";

// The FIFO line `message` stands for, or why it stands for none (a message naming the
// address, its type tags and what it takes).
std::variant<std::string, std::string> osc_control_line(const OscMessage& message);

// The command `message` asks for, checked against `worker_count` by parse_control_line; or the
// message that says why not (as parse_control_line's: no trailing newline).
std::variant<ControlCommand, std::string> parse_osc_command(const OscMessage& message,
                                                            std::uint32_t worker_count);

// The answer to a message at `address`: /synthfarm/reply ,sis.
OscMessage osc_reply(std::string_view address, bool ok, std::string_view text);

// An answer received, read back (what `synthfarm ctl --osc` prints).
struct OscReply {
  std::string address;  // of the command it answers
  bool ok = false;
  std::string text;
};

// nullopt unless `message` is a /synthfarm/reply ,sis.
std::optional<OscReply> read_osc_reply(const OscMessage& message);

// The message `synthfarm ctl --osc` sends for the FIFO command words `words` (at least one):
// the address /synthfarm/<first word>; worker words "all" as a string, numbers as int32;
// feedback|mul as strings; values as float64; seeds as strings of digits (every uint64 fits);
// report's words joined by single spaces into one path. A word that does not convert is sent
// as a string: the instance judges, and its refusal names the problem.
OscMessage osc_message_from_words(const std::vector<std::string>& words);

}  // namespace synthfarm
