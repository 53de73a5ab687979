#include "bench/child_cleanup.h"

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cerrno>

namespace synthfarm::bench {
namespace {

constexpr int kMaxTracked = 128;

// pid 0: a free entry. Atomics, so that the handler never sees half a write.
std::atomic<pid_t> tracked_pids[kMaxTracked];
std::atomic<int> tracked_signals[kMaxTracked];

void kill_tracked_and_die(int signal_number) {
  for (int i = 0; i < kMaxTracked; ++i) {
    const pid_t child = tracked_pids[i].load();
    if (child > 0) kill(child, tracked_signals[i].load());
  }
  for (int i = 0; i < kMaxTracked; ++i) {
    const pid_t child = tracked_pids[i].load();
    if (child <= 0) continue;
    while (waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  signal(signal_number, SIG_DFL);
  raise(signal_number);
}

}  // namespace

void install_child_cleanup() {
  static bool installed = false;
  if (installed) return;
  installed = true;
  struct sigaction action {};
  action.sa_handler = kill_tracked_and_die;
  sigemptyset(&action.sa_mask);
  for (const int signal_number : {SIGINT, SIGTERM, SIGHUP}) {
    sigaddset(&action.sa_mask, signal_number);
  }
  for (const int signal_number : {SIGINT, SIGTERM, SIGHUP}) {
    sigaction(signal_number, &action, nullptr);
  }
}

void track_child(pid_t child, int signal_number) {
  for (int i = 0; i < kMaxTracked; ++i) {
    if (tracked_pids[i].load() != 0) continue;
    tracked_signals[i].store(signal_number);
    tracked_pids[i].store(child);
    return;
  }
}

void untrack_child(pid_t child) {
  for (int i = 0; i < kMaxTracked; ++i) {
    if (tracked_pids[i].load() == child) tracked_pids[i].store(0);
  }
}

}  // namespace synthfarm::bench
