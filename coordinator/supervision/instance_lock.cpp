#include "coordinator/supervision/instance_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "coordinator/plan/cli_options.h"
#include "shared/segment.h"

namespace synthfarm {
namespace {

// How often acquire() retries when the lock file was replaced between its open and its flock.
constexpr int kLockAttempts = 100;

std::string mode_text(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// The pid the holder wrote into the lock file, or 0.
pid_t recorded_pid(int fd) {
  char text[32] = {};
  if (pread(fd, text, sizeof text - 1, 0) <= 0) return 0;
  const long pid = std::strtol(text, nullptr, 10);
  return pid > 0 ? static_cast<pid_t>(pid) : 0;
}

// A process with a descriptor open on the file (dev, ino), found through /proc; 0 if none is
// visible (another user's process is not).
pid_t process_holding(const struct stat& file) {
  std::error_code error;
  for (const auto& process : std::filesystem::directory_iterator("/proc", error)) {
    const std::string pid_text = process.path().filename().string();
    if (pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code fd_error;
    for (const auto& fd : std::filesystem::directory_iterator(process.path() / "fd", fd_error)) {
      struct stat target {};
      if (stat(fd.path().c_str(), &target) == 0 && same_file(target, file)) {
        return static_cast<pid_t>(std::stol(pid_text));
      }
    }
  }
  return 0;
}

}  // namespace

bool ensure_private_directory(const std::string& path, std::string& error) {
  const std::string fix =
      "; remove it, or set XDG_RUNTIME_DIR to a directory that only you can write";
  if (mkdir(path.c_str(), 0700) == 0) {
    chmod(path.c_str(), 0700);  // whatever the umask took away; nobody else can reach it yet
  } else if (errno != EEXIST) {
    error = "cannot create the private directory " + path + ": " + std::strerror(errno) +
            " (XDG_RUNTIME_DIR must name an existing directory of yours; or unset it)";
    return false;
  }
  struct stat status {};
  if (lstat(path.c_str(), &status) != 0) {
    error = "cannot examine the private directory " + path + ": " + std::strerror(errno);
    return false;
  }
  if (S_ISLNK(status.st_mode)) {
    error = path + " is a symbolic link, not a directory of yours" + fix;
    return false;
  }
  if (!S_ISDIR(status.st_mode)) {
    error = path + " is not a directory" + fix;
    return false;
  }
  if (status.st_uid != geteuid()) {
    error = path + " belongs to uid " + std::to_string(status.st_uid) + ", not to you (uid " +
            std::to_string(geteuid()) + "); have its owner or root remove it, or set " +
            "XDG_RUNTIME_DIR to a directory that only you can write";
    return false;
  }
  if ((status.st_mode & 07777) != 0700) {
    error = path + " has mode " + mode_text(status.st_mode) +
            ", so other users may reach what synthfarm keeps there; run `chmod 700 " + path + "`";
    return false;
  }
  return true;
}

std::unique_ptr<InstanceLock> InstanceLock::acquire(const std::string& name, std::string& error) {
  const std::string directory = default_runtime_directory();
  if (!ensure_private_directory(directory, error)) return nullptr;
  const std::string path = directory + "/" + name + ".lock";
  for (int attempt = 0; attempt < kLockAttempts; ++attempt) {
    const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == ENOENT) {
      // The last instance to leave removed the empty directory after our check: make it anew.
      if (!ensure_private_directory(directory, error)) return nullptr;
      continue;
    }
    if (fd < 0) {
      error = "cannot open the instance lock " + path + ": " + std::strerror(errno);
      return nullptr;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int lock_errno = errno;
      const pid_t owner = lock_errno == EWOULDBLOCK ? recorded_pid(fd) : 0;
      close(fd);
      if (lock_errno == EWOULDBLOCK) {
        error = "another synthfarm instance named '" + name + "' is running" +
                (owner > 0 ? " (pid " + std::to_string(owner) + ")" : std::string()) +
                "; stop it (write 'quit' to its control FIFO) or choose another --name";
      } else {
        error = "cannot take the instance lock " + path + ": " + std::strerror(lock_errno);
      }
      return nullptr;
    }
    // The last holder removes the file before it lets go: a lock on a file that is no longer
    // at the path keeps nobody out. Kept only if the path still names what was locked.
    struct stat locked {};
    struct stat named {};
    if (fstat(fd, &locked) == 0 && lstat(path.c_str(), &named) == 0 && same_file(locked, named)) {
      const std::string pid_line = std::to_string(getpid()) + "\n";
      if (ftruncate(fd, 0) != 0 || pwrite(fd, pid_line.data(), pid_line.size(), 0) !=
                                       static_cast<ssize_t>(pid_line.size())) {
        // Only the refusal message of a second instance loses its pid: not worth failing for.
      }
      return std::unique_ptr<InstanceLock>(new InstanceLock(fd, path, directory));
    }
    close(fd);
  }
  error = "cannot take the instance lock " + path + ": it was replaced " +
          std::to_string(kLockAttempts) + " times in a row; is something removing it?";
  return nullptr;
}

InstanceLock::~InstanceLock() {
  // Removed while still held: whoever opens the path from now on gets a new file, and whoever
  // opened this one sees, once it gets the lock, that the path no longer names it.
  struct stat locked {};
  struct stat named {};
  if (fstat(fd_, &locked) == 0 && lstat(path_.c_str(), &named) == 0 && same_file(locked, named)) {
    unlink(path_.c_str());
  }
  close(fd_);
  // Only when empty (the kernel refuses otherwise): a run leaves nothing behind, and another
  // instance that finds the directory gone between its check and its open makes it anew.
  rmdir(directory_.c_str());
}

std::string segment_name_for(const std::string& instance_name, pid_t coordinator_pid) {
  return "synthfarm-" + instance_name + "-" + std::to_string(coordinator_pid);
}

std::string reclaim_stale_segments(const std::string& instance_name) {
  const std::string own_prefix = "synthfarm-" + instance_name + "-";
  std::string report;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("synthfarm-", 0) != 0) continue;
    const auto dash = name.rfind('-');
    const std::string pid_text = name.substr(dash + 1);
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    const long pid = std::strtol(pid_text.c_str(), nullptr, 10);
    struct stat status {};
    if (lstat(entry.path().c_str(), &status) != 0 || status.st_uid != geteuid()) continue;
    // Instance names cannot hold the pid's digits after a dash of their own, so the part before
    // the last dash names the instance exactly.
    const bool this_instance =
        name.compare(0, dash + 1, own_prefix) == 0 && dash + 1 == own_prefix.size();
    if (!this_instance) {
      if (pid <= 1) continue;
      if (kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // may be alive
    }
    std::string why;
    if (Segment::remove_name(name, why)) {
      report += "synthfarm: removed stale shared memory /dev/shm/" + name +
                (this_instance ? " left by an earlier run of instance '" + instance_name + "'"
                               : std::string(" of a dead synthfarm")) +
                " (pid " + std::to_string(pid) + ")\n";
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
  if (status.st_uid != geteuid()) {
    error = "the control path " + path + " is a FIFO of uid " + std::to_string(status.st_uid) +
            ", not yours; choose another --control, or have its owner or root remove it";
    return false;
  }
  // A running instance holds its FIFO open for reading; opening for writing without blocking
  // succeeds only then (ENXIO when nobody reads).
  const int probe = open(path.c_str(), O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (probe >= 0) {
    struct stat opened {};
    const bool examined = fstat(probe, &opened) == 0;
    close(probe);
    const pid_t holder = examined ? process_holding(opened) : 0;
    error = "the control FIFO " + path + " is in use by a running synthfarm" +
            (holder > 0 ? " (pid " + std::to_string(holder) + ")" : std::string()) +
            "; stop it (write 'quit' to the FIFO) or choose another --control";
    return false;
  }
  if (errno != ENXIO) {
    error = "cannot check whether the control FIFO " + path + " is in use: " + std::strerror(errno);
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
