#include "coordinator/control/control_server.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <utility>

#include "coordinator/control/control_protocol.h"
#include "coordinator/control/fifo_ownership.h"

namespace synthfarm {

int open_reply_fifo(std::string_view reply_path, std::string& error) {
  const std::string path(reply_path);
  if (path.empty() || path.front() != '/') {
    error = "reply-to needs the absolute path of a FIFO";
    return -1;
  }
  // Opened first and checked through the descriptor: no window between a check and the open.
  const int fd = open(path.c_str(), O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot open the reply FIFO " + path + ": " + std::strerror(errno) +
            " (did synthfarm ctl give up?)";
    return -1;
  }
  uid_t owner = 0;
  if (opened_fifo_ownership(fd, owner) != FifoOwnership::kOwnFifo) {
    close(fd);
    error = "reply-to " + path + " is not a FIFO of this user";
    return -1;
  }
  return fd;
}

ControlServer::ControlServer(ControlFifo& fifo, CommandHandler& handler, std::uint32_t worker_count,
                             Console console)
    : fifo_(fifo), handler_(handler), worker_count_(worker_count), console_(std::move(console)) {}

ControlServer::~ControlServer() {
  for (PendingReply& reply : pending_) finish(reply);
}

bool ControlServer::serve() {
  bool quit = false;
  fifo_.read_lines([&](std::string_view line, bool too_long) { handle_line(line, too_long, quit); },
                   kMaxLinesPerServe);
  return quit;
}

void ControlServer::add_poll_fds(std::vector<pollfd>& fds) const {
  for (const PendingReply& reply : pending_) fds.push_back({reply.fd, POLLOUT, 0});
}

void ControlServer::send_pending_replies(std::chrono::steady_clock::time_point now) {
  for (std::size_t i = 0; i < pending_.size();) {
    PendingReply& reply = pending_[i];
    if (write_some(reply) || now >= reply.deadline) {
      finish(reply);
      pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
      continue;
    }
    ++i;
  }
}

void ControlServer::handle_line(std::string_view line, bool too_long, bool& quit) {
  if (too_long) {
    console_.err("synthfarm: control: a line longer than " +
                 std::to_string(ControlFifo::kMaxLineBytes) + " bytes was ignored\n");
    return;
  }
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;  // blank: ignore
  std::string_view reply_path;
  int reply_fd = -1;
  if (const auto reply_to = split_reply_to(line)) {
    reply_path = reply_to->reply_path;
    line = reply_to->command;
    std::string error;
    reply_fd = open_reply_fifo(reply_path, error);
    if (reply_fd < 0) {
      console_.err("synthfarm: control: " + error + "; nothing changed\n");
      return;
    }
  }
  const bool quit_before = quit;
  const CommandResult result = answer(line, quit);
  if (!quit_before) {
    // A line read together with an earlier `quit` is answered to its ctl only.
    if (result.ok && (reply_path.empty() || result.log)) console_.out(result.text);
    if (!result.ok) console_.err("synthfarm: " + result.text);
  }
  if (reply_fd >= 0) send_reply(reply_fd, reply_path, result);
}

CommandResult ControlServer::answer(std::string_view command_text, bool& quit) {
  if (quit) {
    return {false, "control: the instance is quitting; '" + std::string(command_text) +
                       "' was not carried out\n"};
  }
  auto parsed = parse_control_line(command_text, worker_count_);
  if (auto* message = std::get_if<std::string>(&parsed)) {
    return {false, *message + "; nothing changed\n"};
  }
  const auto& command = std::get<ControlCommand>(parsed);
  if (command.verb == ControlCommand::Verb::kQuit) quit = true;
  try {
    return handler_.apply(command);
  } catch (const std::exception& failure) {
    // The handler should not throw; if it does, the instance plays on.
    return {false, "control: '" + std::string(command_text) + "' failed: " + failure.what() + "\n"};
  }
}

void ControlServer::send_reply(int fd, std::string_view reply_path, const CommandResult& result) {
  PendingReply reply{fd, std::string(reply_path), format_reply(result.ok, result.text), 0,
                     std::chrono::steady_clock::now() + kReplyTimeout};
  if (write_some(reply) || pending_.size() >= kMaxPendingReplies) {
    finish(reply);
    return;
  }
  // The reader is slower than the reply is long: the rest goes as it makes room.
  pending_.push_back(std::move(reply));
}

bool ControlServer::write_some(PendingReply& reply) {
  while (reply.sent < reply.text.size()) {
    const ssize_t written =
        write(reply.fd, reply.text.data() + reply.sent, reply.text.size() - reply.sent);
    if (written > 0) {
      reply.sent += static_cast<std::size_t>(written);
      continue;
    }
    if (written < 0 && errno == EINTR) continue;
    return !(written < 0 && errno == EAGAIN);  // EAGAIN: wait for room; else the reader is gone
  }
  return true;
}

void ControlServer::finish(PendingReply& reply) {
  close(reply.fd);
  if (reply.sent < reply.text.size()) {
    console_.err("synthfarm: control: the reply to " + reply.path + " was cut short after " +
                 std::to_string(reply.sent) + " of " + std::to_string(reply.text.size()) +
                 " bytes\n");
  }
}

}  // namespace synthfarm
