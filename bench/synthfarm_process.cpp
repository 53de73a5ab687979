#include "bench/synthfarm_process.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bench/child_cleanup.h"

extern char** environ;

namespace synthfarm::bench {
namespace {

double seconds_of(const timeval& time) {
  return static_cast<double>(time.tv_sec) + 1e-6 * static_cast<double>(time.tv_usec);
}

std::string text_of(const std::filesystem::path& log) {
  std::ifstream file(log);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string command_line(const std::vector<std::string>& arguments) {
  std::string text = "synthfarm";
  for (const std::string& argument : arguments) text += " " + argument;
  return text;
}

}  // namespace

std::optional<std::string> synthfarm_beside_self(std::string& error) {
  std::error_code failure;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", failure);
  if (failure) {
    error = "cannot read /proc/self/exe: " + failure.message();
    return std::nullopt;
  }
  const std::filesystem::path synthfarm = self.parent_path() / "synthfarm";
  if (access(synthfarm.c_str(), X_OK) != 0) {
    error = "cannot run " + synthfarm.string() + ": " + std::strerror(errno) +
            " (build the synthfarm target in the same build directory)";
    return std::nullopt;
  }
  return synthfarm.string();
}

std::string unique_run_name() {
  static unsigned sequence = 0;
  return "synthfarm-bench-" + std::to_string(getpid()) + "-" + std::to_string(sequence++);
}

std::optional<FinishedRun> run_synthfarm(const std::string& synthfarm,
                                         const std::vector<std::string>& arguments,
                                         std::string& error, const RunSettings& settings) {
  const std::filesystem::path log =
      std::filesystem::temp_directory_path() / (unique_run_name() + ".log");
  std::vector<std::string> all{synthfarm};
  all.insert(all.end(), arguments.begin(), arguments.end());
  std::vector<char*> argv;
  for (std::string& argument : all) argv.push_back(argument.data());
  argv.push_back(nullptr);

  // fork, not posix_spawn: the child changes its limits and capabilities before exec. This
  // program has no other thread, so the child may do more than async-signal-safe calls allow
  // a threaded one; it still only makes syscalls.
  std::vector<std::string> environment;
  for (char** variable = environ; *variable; ++variable) {
    if (std::strncmp(*variable, "SYNTHFARM_REALTIME=", 19) != 0) environment.push_back(*variable);
  }
  if (!settings.realtime_allowed) environment.push_back("SYNTHFARM_REALTIME=off");
  std::vector<char*> envp;
  for (std::string& variable : environment) envp.push_back(variable.data());
  envp.push_back(nullptr);
  install_child_cleanup();
  const auto start = std::chrono::steady_clock::now();
  const pid_t child = fork();
  if (child < 0) {
    error = "cannot start " + synthfarm + ": fork failed: " + std::strerror(errno);
    return std::nullopt;
  }
  if (child == 0) {
    // A bench killed outright (SIGKILL) takes its probe with it: synthfarm stops its workers
    // on SIGTERM.
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) _exit(126);
    const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0 || dup2(out, STDOUT_FILENO) < 0 || dup2(out, STDERR_FILENO) < 0) _exit(126);
    if (!settings.realtime_allowed) {
      const rlimit none{0, 0};
      if (setrlimit(RLIMIT_RTPRIO, &none) != 0) _exit(126);
      // EINVAL: a kernel without capabilities; EPERM: we are not privileged, so synthfarm
      // will not be either (the rlimit alone refuses real time to an unprivileged process).
      if (prctl(PR_CAPBSET_DROP, CAP_SYS_NICE, 0, 0, 0) != 0 && errno != EPERM && errno != EINVAL) {
        _exit(126);
      }
    }
    execve(synthfarm.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  track_child(child, SIGTERM);
  int status = 0;
  rusage usage{};
  pid_t reaped = 0;
  do {
    reaped = wait4(child, &status, 0, &usage);
  } while (reaped < 0 && errno == EINTR);
  untrack_child(child);
  const auto end = std::chrono::steady_clock::now();
  FinishedRun run;
  run.output = text_of(log);
  std::error_code ignored;
  std::filesystem::remove(log, ignored);
  if (reaped < 0) {
    error = std::string("wait4 for synthfarm failed: ") + std::strerror(errno);
    return std::nullopt;
  }
  const bool exited = WIFEXITED(status);
  if (exited && WEXITSTATUS(status) != 0 && settings.failed_exit_is_result) {
    run.exit_code = WEXITSTATUS(status);
  } else if (!exited || WEXITSTATUS(status) != 0) {
    error = command_line(arguments) + " failed (" +
            (WIFEXITED(status) ? "exit code " + std::to_string(WEXITSTATUS(status))
                               : "signal " + std::to_string(WTERMSIG(status))) +
            "); its output:\n" + tail_of(run.output);
    return std::nullopt;
  }
  run.wall_seconds = std::chrono::duration<double>(end - start).count();
  run.cpu_seconds = seconds_of(usage.ru_utime) + seconds_of(usage.ru_stime);
  return run;
}

std::string tail_of(const std::string& text) {
  constexpr std::size_t kTail = 2000;
  return text.size() > kTail ? "..." + text.substr(text.size() - kTail) : text;
}

}  // namespace synthfarm::bench
