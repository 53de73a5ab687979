#include "bench/synthfarm_process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

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
                                         std::string& error) {
  const std::filesystem::path log =
      std::filesystem::temp_directory_path() / (unique_run_name() + ".log");
  std::vector<std::string> all{synthfarm};
  all.insert(all.end(), arguments.begin(), arguments.end());
  std::vector<char*> argv;
  for (std::string& argument : all) argv.push_back(argument.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t child = 0;
  const auto start = std::chrono::steady_clock::now();
  const int spawned =
      posix_spawn(&child, synthfarm.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    error = "cannot start " + synthfarm + ": " + std::strerror(spawned);
    return std::nullopt;
  }
  int status = 0;
  rusage usage{};
  pid_t reaped = 0;
  do {
    reaped = wait4(child, &status, 0, &usage);
  } while (reaped < 0 && errno == EINTR);
  const auto end = std::chrono::steady_clock::now();
  FinishedRun run;
  run.output = text_of(log);
  std::error_code ignored;
  std::filesystem::remove(log, ignored);
  if (reaped < 0) {
    error = std::string("wait4 for synthfarm failed: ") + std::strerror(errno);
    return std::nullopt;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
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
