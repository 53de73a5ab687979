#pragma once
// The instance's half of the control protocol (control_protocol.h) over the control FIFO:
// reads the lines, opens and checks the reply FIFO a line names, parses the command, has a
// CommandHandler apply it, and sends the reply. Says on the instance's console what was done.

#include <poll.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/control/command_handler.h"
#include "coordinator/control/control_fifo.h"

namespace synthfarm {

class ControlServer {
 public:
  // Where the server's own lines go: whole lines for stdout (`out`) or stderr (`err`). The
  // coordinator erases its live status before printing them; a test keeps them.
  struct Console {
    std::function<void(const std::string& text)> out;
    std::function<void(const std::string& text)> err;
  };

  // How long a reply may wait for a slow `synthfarm ctl` to make room (a reply over 64 KiB).
  // It waits beside the control loop, never in it: see send_pending_replies().
  static constexpr std::chrono::milliseconds kReplyTimeout{2000};
  // Lines answered per serve(): a flood of lines never keeps the control loop from watching
  // the workers, the signals and the output in between.
  static constexpr std::size_t kMaxLinesPerServe = 64;
  // Replies waiting for room at once; one more is cut short at once (each holds a descriptor).
  static constexpr std::size_t kMaxPendingReplies = 32;

  // Thread: control. `fifo` and `handler` must outlive the server. Commands naming a worker
  // are checked against `worker_count`.
  ControlServer(ControlFifo& fifo, CommandHandler& handler, std::uint32_t worker_count,
                Console console);

  // Thread: control. The descriptor to poll for POLLIN.
  int fd() const noexcept { return fifo_.fd(); }

  // Thread: control. Closes the replies still waiting, cutting them short.
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Thread: control. Answers the complete lines the FIFO holds, at most kMaxLinesPerServe,
  // without waiting for more. Returns true once a line asked to quit; lines after it in the
  // same call are answered (a waiting ctl learns why nothing happened) but not carried out.
  // Never blocks: a reply its reader has no room for yet waits in send_pending_replies().
  bool serve();

  // Thread: control. True when serve() left complete lines for its next call: poll must not
  // wait before calling it again.
  bool has_unread_lines() const noexcept { return fifo_.has_unread_input(); }

  // Thread: control. Adds POLLOUT for each reply waiting for room.
  void add_poll_fds(std::vector<pollfd>& fds) const;

  // Thread: control. Never blocks. Writes what each waiting reply's reader has room for; one
  // whole is closed, one still waiting at its deadline (kReplyTimeout after it was answered,
  // on the clock of `now`) is cut short and said so on stderr.
  void send_pending_replies(std::chrono::steady_clock::time_point now);
  std::size_t pending_replies() const noexcept { return pending_.size(); }

 private:
  void handle_line(std::string_view line, bool too_long, bool& quit);
  // The command's result, or why it was not carried out.
  CommandResult answer(std::string_view command_text, bool& quit);
  struct PendingReply {
    int fd;
    std::string path;
    std::string text;
    std::size_t sent;
    std::chrono::steady_clock::time_point deadline;
  };

  // Writes as much of the reply to `fd` as its reader has room for; the rest waits in
  // pending_. Closes `fd` once the reply is whole.
  void send_reply(int fd, std::string_view reply_path, const CommandResult& result);
  // Writes without blocking; true once the whole text is written (or the reader is gone).
  static bool write_some(PendingReply& reply);
  // Closes the reply, saying on stderr when its reader took only part.
  void finish(PendingReply& reply);

  ControlFifo& fifo_;
  CommandHandler& handler_;
  std::uint32_t worker_count_;
  Console console_;
  std::vector<PendingReply> pending_;  // at most kMaxPendingReplies
};

// Thread: control. Opens the reply FIFO a line names, for writing, without blocking and
// without following a link, and checks what was opened: a FIFO of this user (a path on the
// control FIFO must never become a way to overwrite a file). Returns the descriptor, or -1
// with `error` (what is wrong, without the "nothing changed" the server adds).
int open_reply_fifo(std::string_view reply_path, std::string& error);

}  // namespace synthfarm
