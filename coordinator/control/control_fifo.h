#pragma once
// The control FIFO: created at start-up, read by the control thread with poll, removed at exit.

#include <sys/types.h>

#include <array>
#include <cstdint>
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
  // A stale FIFO at `path` must have been removed before (see instance_lock.h). Refused when
  // what was opened is not a FIFO of this user (the path was swapped after mkfifo).
  static std::unique_ptr<ControlFifo> create(const std::string& path, std::string& error);

  // Closes, and removes the FIFO if the path still names the one create() made: another
  // instance's FIFO that took its place is never removed.
  ~ControlFifo();
  ControlFifo(const ControlFifo&) = delete;
  ControlFifo& operator=(const ControlFifo&) = delete;

  int fd() const noexcept { return fd_; }
  const std::string& path() const noexcept { return path_; }

  // Thread: control. Reads what is there without blocking and calls on_line for every complete
  // line (without its newline), at most `max_lines` times: a writer that never stops cannot keep
  // the call from returning. too_long is true for a line over kMaxLineBytes, whose text is then
  // only its beginning (it counts as a line).
  void read_lines(const std::function<void(std::string_view line, bool too_long)>& on_line,
                  std::size_t max_lines = SIZE_MAX);

  // Thread: control. Bytes already read from the FIFO that read_lines() left for its next call
  // (it stopped at max_lines). poll() does not see them: the caller must not wait before it
  // calls read_lines() again.
  bool has_unread_input() const noexcept { return unread_begin_ < unread_end_; }

 private:
  struct FileIdentity {
    dev_t device;
    ino_t inode;
  };
  ControlFifo(std::string path, int fd, FileIdentity identity)
      : path_(std::move(path)), fd_(fd), identity_(identity) {}

  std::string path_;
  int fd_;
  FileIdentity identity_;  // of the FIFO create() made
  std::string pending_;
  bool discarding_ = false;  // inside an over-long line, until its newline
  // What the last read() brought, consumed up to unread_begin_.
  std::array<char, 4096> input_{};
  std::size_t unread_begin_ = 0;
  std::size_t unread_end_ = 0;
};

}  // namespace synthfarm
