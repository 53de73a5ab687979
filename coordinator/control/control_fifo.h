#pragma once
// The control FIFO: created at start-up, read by the control thread with poll, removed at exit.

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace synthfarm {

class ControlFifo {
 public:
  // Lines longer than this are reported and dropped, never applied.
  static constexpr std::size_t kMaxLineBytes = 4096;

  // mkfifo (mode 0600) and open. Opened O_RDWR | O_NONBLOCK: a read-only reader sees POLLHUP
  // after every writer leaves and would spin; holding a write end ourselves prevents that.
  // A stale FIFO at `path` must have been removed before (see instance_lock.h).
  static std::unique_ptr<ControlFifo> create(const std::string& path, std::string& error);

  ~ControlFifo();  // closes and removes the FIFO
  ControlFifo(const ControlFifo&) = delete;
  ControlFifo& operator=(const ControlFifo&) = delete;

  int fd() const noexcept { return fd_; }
  const std::string& path() const noexcept { return path_; }

  // Thread: control. Reads what is there without blocking and calls on_line for every complete
  // line (without its newline); too_long is true for a line over kMaxLineBytes, whose text is
  // then only its beginning.
  void read_lines(const std::function<void(std::string_view line, bool too_long)>& on_line);

 private:
  ControlFifo(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  std::string path_;
  int fd_;
  std::string pending_;
  bool discarding_ = false;  // inside an over-long line, until its newline
};

}  // namespace synthfarm
