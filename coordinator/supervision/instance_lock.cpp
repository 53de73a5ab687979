#include "coordinator/supervision/instance_lock.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>

#include "shared/segment.h"

namespace synthfarm {
namespace {

sockaddr_un abstract_address(const std::string& name, socklen_t& length) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  // Abstract names are shared by every user of the network namespace: the uid keeps users apart.
  const std::string text = "synthfarm-" + std::to_string(getuid()) + "-" + name;
  std::memcpy(address.sun_path + 1, text.data(), text.size());  // leading NUL: abstract
  length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + text.size());
  return address;
}

// Asks the kernel who holds the lock: connect and read the peer's credentials.
pid_t lock_owner(const sockaddr_un& address, socklen_t length) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  pid_t owner = 0;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address), length) == 0) {
    ucred credentials{};
    socklen_t size = sizeof credentials;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &size) == 0) owner = credentials.pid;
  }
  close(fd);
  return owner;
}

}  // namespace

std::unique_ptr<InstanceLock> InstanceLock::acquire(const std::string& name, std::string& error) {
  socklen_t length = 0;
  const sockaddr_un address = abstract_address(name, length);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("cannot create the instance lock socket: ") + std::strerror(errno);
    return nullptr;
  }
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address), length) != 0 || listen(fd, 4) != 0) {
    const int bind_errno = errno;
    close(fd);
    if (bind_errno == EADDRINUSE) {
      const pid_t owner = lock_owner(address, length);
      error = "another synthfarm instance named '" + name + "' is running" +
              (owner > 0 ? " (pid " + std::to_string(owner) + ")" : std::string()) +
              "; stop it (write 'quit' to its control FIFO) or choose another --name";
    } else {
      error = std::string("cannot take the instance lock: ") + std::strerror(bind_errno);
    }
    return nullptr;
  }
  return std::unique_ptr<InstanceLock>(new InstanceLock(fd));
}

InstanceLock::~InstanceLock() {
  close(fd_);
}

std::string segment_name_for(const std::string& instance_name, pid_t coordinator_pid) {
  return "synthfarm-" + instance_name + "-" + std::to_string(coordinator_pid);
}

std::string reclaim_stale_segments() {
  std::string report;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("synthfarm-", 0) != 0) continue;
    const auto dash = name.rfind('-');
    char* end = nullptr;
    const long pid = std::strtol(name.c_str() + dash + 1, &end, 10);
    if (pid <= 1 || *end != '\0') continue;
    if (kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // alive, or not ours
    std::string why;
    if (Segment::remove_name(name, why)) {
      report += "synthfarm: removed stale shared memory /dev/shm/" + name +
                " of a dead synthfarm (pid " + std::to_string(pid) + ")\n";
    }
  }
  return report;
}

bool reclaim_stale_fifo(const std::string& path, std::string& notice, std::string& error) {
  struct stat status {};
  if (lstat(path.c_str(), &status) != 0) return true;  // nothing there
  if (!S_ISFIFO(status.st_mode)) {
    error = "the control path " + path + " exists and is not a FIFO; remove it or use --control";
    return false;
  }
  if (unlink(path.c_str()) != 0) {
    error = "cannot remove the stale control FIFO " + path + ": " + std::strerror(errno);
    return false;
  }
  notice += "synthfarm: removed the stale control FIFO " + path +
            " left by an instance that is no longer running\n";
  return true;
}

}  // namespace synthfarm
