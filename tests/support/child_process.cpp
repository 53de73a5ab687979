#include "tests/support/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

extern char** environ;

namespace synthfarm::testing {

ChildProcess::ChildProcess(const std::vector<std::string>& argv,
                           const std::vector<std::string>& extra_environment) {
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  // An extra entry replaces an inherited one of the same name (getenv would find the first).
  const auto overridden = [&](std::string_view entry) {
    const std::string_view name = entry.substr(0, entry.find('=') + 1);
    return std::any_of(extra_environment.begin(), extra_environment.end(),
                       [&](const std::string& extra) { return extra.starts_with(name); });
  };
  std::vector<std::string> environment_text;
  for (char** entry = environ; *entry; ++entry) {
    if (!overridden(*entry)) environment_text.emplace_back(*entry);
  }
  for (const auto& entry : extra_environment) environment_text.push_back(entry);
  std::vector<char*> environment;
  for (auto& entry : environment_text) environment.push_back(entry.data());
  environment.push_back(nullptr);
  const int result =
      posix_spawn(&pid_, argv[0].c_str(), &actions, nullptr, args.data(), environment.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (result != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    throw std::runtime_error("cannot start " + argv[0]);
  }
  const auto reader = [this](int fd, std::string ChildProcess::*stream) {
    char buffer[4096];
    while (true) {
      const ssize_t count = read(fd, buffer, sizeof buffer);
      if (count <= 0) break;
      std::lock_guard lock(mutex_);
      (this->*stream).append(buffer, static_cast<std::size_t>(count));
      changed_.notify_all();
    }
    close(fd);
    std::lock_guard lock(mutex_);
    --open_streams_;
    changed_.notify_all();
  };
  readers_.emplace_back(reader, out_pipe[0], &ChildProcess::stdout_);
  readers_.emplace_back(reader, err_pipe[0], &ChildProcess::stderr_);
}

ChildProcess::~ChildProcess() {
  if (!reaped_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &wait_status_, 0);
  }
  for (auto& reader : readers_) reader.join();
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  if (reaped_) return wait_status_;
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
  pollfd fd{pidfd, POLLIN, 0};
  const int ready = poll(&fd, 1, static_cast<int>(timeout.count()));
  close(pidfd);
  if (ready <= 0) return std::nullopt;
  waitpid(pid_, &wait_status_, 0);
  reaped_ = true;
  // The output is complete once both pipes reach end of file; bounded, in case a process
  // that should not exist any more (an orphaned worker) still holds them.
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, std::chrono::seconds(5), [&] { return open_streams_ == 0; });
  return wait_status_;
}

std::optional<int> ChildProcess::wait_exit_code(std::chrono::milliseconds timeout) {
  const auto status = wait(timeout);
  if (!status) return std::nullopt;
  if (WIFEXITED(*status)) return WEXITSTATUS(*status);
  return -WTERMSIG(*status);
}

void ChildProcess::send_signal(int signal_number) {
  if (!reaped_) kill(pid_, signal_number);
}

std::optional<std::vector<std::string>> ChildProcess::wait_for(std::string ChildProcess::*stream,
                                                               const std::regex& pattern,
                                                               std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  std::optional<std::vector<std::string>> found;
  changed_.wait_for(lock, timeout, [&] {
    std::smatch match;
    if (!std::regex_search(this->*stream, match, pattern)) return false;
    found.emplace();
    for (const auto& group : match) found->push_back(group.str());
    return true;
  });
  return found;
}

std::optional<std::vector<std::string>> ChildProcess::wait_for_stdout(
    const std::regex& pattern, std::chrono::milliseconds timeout) {
  return wait_for(&ChildProcess::stdout_, pattern, timeout);
}

std::optional<std::vector<std::string>> ChildProcess::wait_for_stderr(
    const std::regex& pattern, std::chrono::milliseconds timeout) {
  return wait_for(&ChildProcess::stderr_, pattern, timeout);
}

std::string ChildProcess::stdout_text() {
  std::lock_guard lock(mutex_);
  return stdout_;
}

std::string ChildProcess::stderr_text() {
  std::lock_guard lock(mutex_);
  return stderr_;
}

std::string built_program(const std::string& name) {
  return std::string(SYNTHFARM_BUILD_DIR) + "/" + name;
}

std::vector<std::string> shm_entries(const std::string& prefix) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm")) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0) names.push_back(name);
  }
  return names;
}

void remove_jack_server_leftovers(const std::string& server_name) {
  const std::string marker = "_" + server_name + "_";
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("jack", 0) == 0 && name.find(marker) != std::string::npos) {
      std::filesystem::remove(entry.path(), error);
    }
  }
}

bool process_alive(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/stat");
  if (!status) return false;
  std::string pid_text, command, state;
  status >> pid_text >> command >> state;
  return state != "Z";
}

}  // namespace synthfarm::testing
