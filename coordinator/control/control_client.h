#pragma once
// `synthfarm ctl`: sends one command to a running instance through its control FIFO (or, with
// --osc HOST:PORT, as an OSC message: osc_client.h), waits for the answer and hands it back to
// main to print.
//
// The protocol, and what ctl checks at each step, is described in control_protocol.h.
// The reply FIFO is removed whatever happens: an answer, no answer within the timeout, a
// failure, or SIGINT/SIGTERM while waiting.
//
// Exit codes: 0 the instance answered ok; 1 it answered error, or it could not be reached
// (no control FIFO, a stale FIFO, not a FIFO, another user's FIFO), or it did not answer within
// the timeout; 2 a bad ctl command line (nothing was sent). Interrupted by SIGINT or SIGTERM
// while waiting, ctl removes its FIFO and then dies of that signal, as the shell expects of a
// program interrupted.

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "coordinator/control/control_protocol.h"
#include "coordinator/plan/cli_options.h"

namespace synthfarm {

inline constexpr double kDefaultCtlTimeoutSeconds = 5.0;

struct CtlOptions {
  std::string name = "default";  // the instance, for messages; "" when --control was given
  std::string control_path;      // --control, or default_control_path(name)
  double timeout_seconds = kDefaultCtlTimeoutSeconds;
  std::string osc_endpoint;          // --osc HOST:PORT: send over OSC (osc_client.h), not the FIFO
  std::vector<std::string> command;  // the words after the options, at least one
};

// Pure: never prints or exits. argv[0] is "ctl". Options come before the command; the first
// word that is not an option (or everything after "--") starts the command, so that
// `synthfarm ctl gain -6` passes -6 on. Usage errors give exit code 2; --help gives 0.
std::variant<CtlOptions, CliExit> parse_ctl_cli(int argc, const char* const argv[]);

struct CtlResult {
  int exit_code = kExitOk;
  std::string out;         // the answer of an ok reply, for stdout
  std::string err;         // an error reply's lines, or ctl's own message, for stderr
  int interrupted_by = 0;  // SIGINT or SIGTERM arrived while waiting; main re-raises it
};

// Sends options.command and waits up to options.timeout_seconds for the answer. Never prints.
// Blocks (that is its job). Ignores SIGPIPE for the process (a reader that vanishes mid-write
// must give EPIPE, not kill ctl) and blocks SIGINT and SIGTERM while its FIFO exists.
CtlResult send_control_command(const CtlOptions& options);

}  // namespace synthfarm
