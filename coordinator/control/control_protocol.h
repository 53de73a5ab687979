#pragma once
// The words `synthfarm ctl` and the instance's ControlServer share, and the pure halves of the
// exchange: building and reading the line ctl sends, building and reading the reply. Both
// sides include this header and nothing of each other.
//
// The exchange over the control FIFO (control_client.h and control_server.h carry it out):
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
//  3. The coordinator opens the reply FIFO without following a link, checks that it is a FIFO
//     of its own user, applies the command and writes zero or more lines of text, then a last
//     line that is exactly `synthfarm-reply: ok` or `synthfarm-reply: error`.
//  4. ctl hands back the lines before that last line: to print on stdout after ok (exit 0), on
//     stderr after error (exit 1).
// A line without `reply-to` (a user's `echo stop 0 > FIFO`) is applied and answered on the
// instance's own stdout or stderr only.

#include <optional>
#include <string>
#include <string_view>

namespace synthfarm {

inline constexpr std::string_view kReplyToPrefix = "reply-to ";      // starts the line ctl sends
inline constexpr std::string_view kReplyOk = "synthfarm-reply: ok";  // the answer's last line
inline constexpr std::string_view kReplyError = "synthfarm-reply: error";

// Everything below is pure: any thread, no I/O; the functions allocate only what they return.

// The commands in one line, for the start-up report and for every message about a bad line.
inline constexpr const char* kControlHelp =
    "commands: stop <worker|all>, play <worker|all>, set <worker|all> feedback|mul <value>, "
    "gain <dB>, reseed <worker|all> <seed>, report FILE, status, quit";

// The control commands, one per line, for synthfarm --help and synthfarm ctl --help. Pure.
std::string control_command_summary();

// A received line split at its `reply-to` prefix. Views into the line given.
struct ReplyToLine {
  std::string_view reply_path;  // up to the first blank after the prefix
  std::string_view command;     // the rest, after that blank; empty when there is none
};

// Pure. nullopt when the line does not start with kReplyToPrefix (a command to apply with no
// reply FIFO).
std::optional<ReplyToLine> split_reply_to(std::string_view line) noexcept;

// Pure. The whole reply: `body` (whole lines, each ending in a newline, or empty), then the
// last line, kReplyOk or kReplyError.
std::string format_reply(bool ok, std::string_view body);

// What ctl has received so far, read.
struct CtlReply {
  bool done = false;  // the last line has arrived; `ok` and `body` are meaningful
  bool ok = false;    // it was kReplyOk
  std::string body;   // once done: every line before the last line, each with its newline
};

// Pure, total: any bytes give an answer, never an exception or a read past the end (a fuzzer
// drives it). The reply is done at the first complete line that is exactly kReplyOk or
// kReplyError; what follows that line is ignored.
CtlReply parse_ctl_reply(std::string_view received);

}  // namespace synthfarm
