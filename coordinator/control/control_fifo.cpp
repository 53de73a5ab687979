#include "coordinator/control/control_fifo.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace synthfarm {

std::unique_ptr<ControlFifo> ControlFifo::create(const std::string& path, std::string& error) {
  if (mkfifo(path.c_str(), 0600) != 0) {
    error = "cannot create the control FIFO " + path + ": " + std::strerror(errno) +
            (errno == EEXIST ? " (a file of that name exists; remove it or choose --control)"
                             : " (choose another path with --control)");
    return nullptr;
  }
  const int fd = open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot open the control FIFO " + path + ": " + std::strerror(errno);
    unlink(path.c_str());
    return nullptr;
  }
  return std::unique_ptr<ControlFifo>(new ControlFifo(path, fd));
}

ControlFifo::~ControlFifo() {
  close(fd_);
  unlink(path_.c_str());
}

void ControlFifo::read_lines(
    const std::function<void(std::string_view line, bool too_long)>& on_line) {
  char buffer[4096];
  while (true) {
    const ssize_t count = read(fd_, buffer, sizeof buffer);
    if (count <= 0) return;  // EAGAIN: nothing more for now (we hold a writer: never EOF)
    for (ssize_t i = 0; i < count; ++i) {
      const char c = buffer[i];
      if (c == '\n') {
        if (!discarding_) on_line(pending_, false);
        discarding_ = false;
        pending_.clear();
        continue;
      }
      if (discarding_) continue;
      if (pending_.size() == kMaxLineBytes) {
        on_line(pending_, true);
        pending_.clear();
        discarding_ = true;
        continue;
      }
      pending_ += c;
    }
  }
}

}  // namespace synthfarm
