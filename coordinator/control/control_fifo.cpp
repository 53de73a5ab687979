#include "coordinator/control/control_fifo.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "coordinator/control/fifo_ownership.h"

namespace synthfarm {

std::unique_ptr<ControlFifo> ControlFifo::create(const std::string& path, std::string& error) {
  if (mkfifo(path.c_str(), 0600) != 0) {
    error = "cannot create the control FIFO " + path + ": " + std::strerror(errno) +
            (errno == EEXIST ? " (a file of that name exists; remove it or choose --control)"
                             : " (choose another path with --control)");
    return nullptr;
  }
  const int fd = open(path.c_str(), O_RDWR | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot open the control FIFO " + path + ": " + std::strerror(errno);
    unlink(path.c_str());
    return nullptr;
  }
  struct stat status {};
  uid_t owner = 0;
  if (opened_fifo_ownership(fd, owner) != FifoOwnership::kOwnFifo || fstat(fd, &status) != 0) {
    // Swapped between mkfifo and open: whatever is there now is not ours to remove.
    close(fd);
    error = "the control FIFO " + path + " was replaced while synthfarm created it; choose a " +
            "--control path in a directory that only you can write";
    return nullptr;
  }
  return std::unique_ptr<ControlFifo>(
      new ControlFifo(path, fd, FileIdentity{status.st_dev, status.st_ino}));
}

ControlFifo::~ControlFifo() {
  close(fd_);
  // Only our own FIFO: if another instance has put its own at this path since, it stays.
  struct stat status {};
  if (lstat(path_.c_str(), &status) == 0 && status.st_dev == identity_.device &&
      status.st_ino == identity_.inode) {
    unlink(path_.c_str());
  }
}

void ControlFifo::read_lines(
    const std::function<void(std::string_view line, bool too_long)>& on_line,
    std::size_t max_lines) {
  std::size_t lines = 0;
  while (lines < max_lines) {
    if (unread_begin_ == unread_end_) {
      const ssize_t count = read(fd_, input_.data(), input_.size());
      if (count <= 0) return;  // EAGAIN: nothing more for now (we hold a writer: never EOF)
      unread_begin_ = 0;
      unread_end_ = static_cast<std::size_t>(count);
    }
    while (unread_begin_ < unread_end_ && lines < max_lines) {
      const char c = input_[unread_begin_++];
      if (c == '\n') {
        if (!discarding_) {
          on_line(pending_, false);
          ++lines;
        }
        discarding_ = false;
        pending_.clear();
        continue;
      }
      if (discarding_) continue;
      if (pending_.size() == kMaxLineBytes) {
        on_line(pending_, true);
        ++lines;
        pending_.clear();
        discarding_ = true;
        continue;
      }
      pending_ += c;
    }
  }
}

}  // namespace synthfarm
