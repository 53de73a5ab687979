#include "bench/background_load.h"

#include "bench/child_cleanup.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace synthfarm::bench {
namespace {

constexpr const char* kBusyProgram = "/usr/bin/yes";

}  // namespace

BackgroundLoad::BackgroundLoad(std::uint32_t processes, std::string& error) {
  install_child_cleanup();
  const pid_t parent = getpid();
  for (std::uint32_t i = 0; i < processes; ++i) {
    const pid_t child = fork();
    if (child < 0) {
      error = std::string("--background-load: fork failed: ") + std::strerror(errno);
      started_ = false;
      return;
    }
    if (child == 0) {
      // If the bench died between fork and here, the death signal was never armed: leave.
      if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(126);
      const int null = open("/dev/null", O_WRONLY);
      if (null < 0 || dup2(null, STDOUT_FILENO) < 0) _exit(126);
      execl(kBusyProgram, kBusyProgram, static_cast<char*>(nullptr));
      _exit(127);
    }
    children_.push_back(child);
    track_child(child, SIGKILL);
  }
  // A child that could not exec has exited by now or soon; one that did runs for ever.
  usleep(50'000);
  for (const pid_t child : children_) {
    int status = 0;
    if (waitpid(child, &status, WNOHANG) == child) {
      error = std::string("--background-load: ") + kBusyProgram + " did not start (exit code " +
              std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + "; install coreutils)";
      started_ = false;
    }
  }
}

BackgroundLoad::~BackgroundLoad() {
  for (const pid_t child : children_) kill(child, SIGKILL);
  for (const pid_t child : children_) {
    while (waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
    untrack_child(child);
  }
}

}  // namespace synthfarm::bench
