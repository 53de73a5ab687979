#pragma once
// `synthfarm ctl`: sends one command to a running instance through its control FIFO, waits for
// the answer and hands it back to main to print.
//
// The protocol (the coordinator's side is in coordinator.cpp, handle_control_line):
//  0. The control FIFO must be a FIFO owned by ctl's effective user, checked on the path and
//     again on what was opened: a FIFO of another user (say one created first at
//     /tmp/synthfarm-default.control while XDG_RUNTIME_DIR is unset) gets nothing.
//  1. ctl makes a reply FIFO, mode 0600, beside the control FIFO, under a name no one else can
//     guess (16 hex digits from getrandom(); mkfifo() refuses a name that exists, and a taken
//     one is drawn again):
//       <directory of the control FIFO>/synthfarm-ctl-<pid of ctl>-<16 hex digits>.reply
//     and opens it O_RDWR | O_NONBLOCK: holding a write end itself, it never sees end-of-file
//     or POLLHUP while it waits, however often the coordinator opens and closes the FIFO.
//  2. It opens the control FIFO O_WRONLY | O_NONBLOCK (ENXIO there means no reader: the
//     instance is gone and the FIFO is stale) and writes one line in one write() of at most
//     PIPE_BUF bytes, which POSIX makes atomic, so it never mixes with other writers' lines:
//       reply-to <absolute path of the reply FIFO> <command words joined by single spaces>\n
//     A longer line is refused before anything is created.
//  3. The coordinator applies the command and writes into the reply FIFO zero or more lines of
//     text, then a last line that is exactly `synthfarm-reply: ok` or `synthfarm-reply: error`.
//  4. ctl hands back the lines before that last line: to print on stdout after ok (exit 0), on
//     stderr after error (exit 1).
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

#include "coordinator/plan/cli_options.h"

namespace synthfarm {

// The protocol's words, shared by ctl and the coordinator.
inline constexpr std::string_view kReplyToPrefix = "reply-to ";      // starts the line ctl sends
inline constexpr std::string_view kReplyOk = "synthfarm-reply: ok";  // the answer's last line
inline constexpr std::string_view kReplyError = "synthfarm-reply: error";

inline constexpr double kDefaultCtlTimeoutSeconds = 5.0;

struct CtlOptions {
  std::string name = "default";  // the instance, for messages; "" when --control was given
  std::string control_path;      // --control, or default_control_path(name)
  double timeout_seconds = kDefaultCtlTimeoutSeconds;
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
