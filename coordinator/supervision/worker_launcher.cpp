#include "coordinator/supervision/worker_launcher.h"

#include "coordinator/supervision/cpu_placement.h"

#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>

extern char** environ;

namespace synthfarm {

std::string worker_executable_path() {
  // A build tree keeps the worker beside the coordinator; an installation (cmake --install, the
  // Debian package) keeps it in ../libexec/synthfarm/, where FHS 3.0 puts programs that only
  // other programs run. Beside wins, so a build tree never runs an installed worker of another
  // version. Found in neither place, the path beside is returned and spawn_worker's error names it.
  std::error_code error;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  const auto directory = error ? std::filesystem::path(".") : self.parent_path();
  const auto beside = directory / "synthfarm-worker";
  const auto installed =
      (directory / ".." / "libexec" / "synthfarm" / "synthfarm-worker").lexically_normal();
  if (access(beside.c_str(), X_OK) != 0 && access(installed.c_str(), X_OK) == 0) {
    return installed.string();
  }
  return beside.string();
}

std::optional<WorkerProcess> spawn_worker(const std::string& executable,
                                          const std::string& segment_name, int segment_descriptor,
                                          std::uint32_t index, std::string& error,
                                          std::optional<int> cpu) {
  constexpr int kChildSegmentDescriptor = 3;
  const std::string index_text = std::to_string(index);
  const std::string pid_text = std::to_string(getpid());
  const std::string descriptor_text = std::to_string(kChildSegmentDescriptor);
  const char* argv[] = {
      executable.c_str(),      "--segment", segment_name.c_str(), "--segment-fd",
      descriptor_text.c_str(), "--index",   index_text.c_str(),   "--coordinator-pid",
      pid_text.c_str(),        nullptr};

  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  // The coordinator blocks its signals for signalfd; a worker starts with none blocked and
  // the default dispositions.
  sigset_t none;
  sigemptyset(&none);
  sigset_t defaults;
  sigfillset(&defaults);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, segment_descriptor, kChildSegmentDescriptor);
  // Audio libraries leave sockets open without O_CLOEXEC; a worker must not hold them.
  posix_spawn_file_actions_addclosefrom_np(&actions, kChildSegmentDescriptor + 1);

  pid_t pid = -1;
  // The child inherits this thread's CPU set: pinned before it runs anything.
  const ScopedThreadCpu placement(cpu);
  if (placement.error() != 0) {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    error = "cannot place worker " + index_text + " on CPU " + std::to_string(*cpu) +
            " (--cpus): " + std::strerror(placement.error());
    return std::nullopt;
  }
  const int result = posix_spawn(&pid, executable.c_str(), &actions, &attributes,
                                 const_cast<char* const*>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (result != 0) {
    error = "cannot start worker " + index_text + " (" + executable + "): " + std::strerror(result);
    if (result == ENOENT) {
      // worker_executable_path() fell back to the build tree's place: name the installed one too.
      const auto installed = (std::filesystem::path(executable).parent_path() / ".." / "libexec" /
                              "synthfarm" / "synthfarm-worker")
                                 .lexically_normal();
      error += "; not in " + installed.string() +
               " either (reinstall synthfarm: apt install --reinstall synthfarm or cmake "
               "--install; in a build tree build the synthfarm-worker target)";
    }
    return std::nullopt;
  }
  WorkerProcess worker;
  worker.index = index;
  worker.pid = pid;
  worker.pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (worker.pidfd < 0) {
    error = std::string("pidfd_open failed: ") + std::strerror(errno) +
            " (synthfarm needs Linux 5.3 or later)";
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return std::nullopt;
  }
  return worker;
}

bool reap_if_exited(WorkerProcess& worker) {
  if (worker.reaped) return false;
  int status = 0;
  const pid_t result = waitpid(worker.pid, &status, WNOHANG);
  if (result != worker.pid) return false;
  worker.reaped = true;
  worker.wait_status = status;
  if (worker.pidfd >= 0) close(worker.pidfd);
  worker.pidfd = -1;
  return true;
}

std::string describe_wait_status(int wait_status) {
  if (WIFEXITED(wait_status)) return "exited with code " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    const int signal_number = WTERMSIG(wait_status);
    return "was killed by signal " + std::to_string(signal_number) + " (" +
           strsignal(signal_number) + ")";
  }
  return "ended with wait status " + std::to_string(wait_status);
}

namespace {

// Waits until every worker is reaped or `timeout` passes.
// True when `interrupt_fd` became readable before every worker exited or `timeout` passed.
bool wait_for_exits(std::vector<WorkerProcess>& workers, std::chrono::milliseconds timeout,
                    int interrupt_fd) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    std::vector<pollfd> fds;
    for (auto& worker : workers) {
      reap_if_exited(worker);
      if (!worker.reaped) fds.push_back({worker.pidfd, POLLIN, 0});
    }
    if (fds.empty()) return false;
    if (interrupt_fd >= 0) fds.push_back({interrupt_fd, POLLIN, 0});
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    if (poll(fds.data(), fds.size(), static_cast<int>(left.count())) > 0 && interrupt_fd >= 0 &&
        (fds.back().revents & POLLIN)) {
      return true;
    }
  }
}

}  // namespace

bool stop_and_reap_workers(std::vector<WorkerProcess>& workers, std::chrono::milliseconds grace,
                           int interrupt_fd) {
  bool interrupted = wait_for_exits(workers, grace, interrupt_fd);
  if (!interrupted) {
    for (auto& worker : workers) {
      if (!worker.reaped) kill(worker.pid, SIGTERM);
    }
    interrupted = wait_for_exits(workers, grace, interrupt_fd);
  }
  for (auto& worker : workers) {
    if (!worker.reaped) {
      kill(worker.pid, SIGKILL);
      waitpid(worker.pid, &worker.wait_status, 0);
      worker.reaped = true;
      if (worker.pidfd >= 0) close(worker.pidfd);
      worker.pidfd = -1;
    }
  }
  return interrupted;
}

bool descriptor_readable(int fd) noexcept {
  if (fd < 0) return false;
  pollfd ready{fd, POLLIN, 0};
  return poll(&ready, 1, 0) > 0 && (ready.revents & POLLIN);
}

}  // namespace synthfarm
