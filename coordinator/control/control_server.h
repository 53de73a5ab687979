#pragma once
// The instance's half of the control protocol (control_protocol.h) over the control FIFO:
// reads the lines, opens and checks the reply FIFO a line names, parses the command, has a
// CommandHandler apply it, and sends the reply. Says on the instance's console what was done.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

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
  static constexpr std::chrono::milliseconds kReplyTimeout{2000};

  // Thread: control. `fifo` and `handler` must outlive the server. Commands naming a worker
  // are checked against `worker_count`.
  ControlServer(ControlFifo& fifo, CommandHandler& handler, std::uint32_t worker_count,
                Console console);

  // Thread: control. The descriptor to poll for POLLIN.
  int fd() const noexcept { return fifo_.fd(); }

  // Thread: control. Answers every complete line the FIFO holds, without waiting for more.
  // Returns true once a line asked to quit; lines after it in the same read are answered
  // (a waiting ctl learns why nothing happened) but not carried out. Blocks only while a
  // reply waits for room, at most kReplyTimeout.
  bool serve();

 private:
  void handle_line(std::string_view line, bool too_long, bool& quit);
  // The command's result, or why it was not carried out.
  CommandResult answer(std::string_view command_text, bool& quit);
  // Writes the reply to `fd` and closes it; says on stderr when the reader took only part.
  void send_reply(int fd, std::string_view reply_path, const CommandResult& result);

  ControlFifo& fifo_;
  CommandHandler& handler_;
  std::uint32_t worker_count_;
  Console console_;
};

// Thread: control. Opens the reply FIFO a line names, for writing, without blocking and
// without following a link, and checks what was opened: a FIFO of this user (a path on the
// control FIFO must never become a way to overwrite a file). Returns the descriptor, or -1
// with `error` (what is wrong, without the "nothing changed" the server adds).
int open_reply_fifo(std::string_view reply_path, std::string& error);

}  // namespace synthfarm
