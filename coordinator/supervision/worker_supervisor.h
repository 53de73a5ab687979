#pragma once
// The worker processes of one run: starting them, waiting for them to attach and fill their
// rings, noticing through their pidfds when one dies, carrying out --on-worker-failure
// (silence, abort, or restart with a back-off), and stopping them at the end.
// The decisions themselves are pure and tested apart (restart_backoff.h).

#include <poll.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "coordinator/plan/cli_options.h"
#include "coordinator/supervision/restart_backoff.h"
#include "coordinator/supervision/worker_launcher.h"
#include "shared/segment.h"

namespace synthfarm {

class WorkerSupervisor {
 public:
  using Clock = RestartBackoff::Clock;
  // The time the restart decisions see; a test gives its own.
  using Now = std::function<Clock::time_point()>;

  // How long workers get to leave on their own, and again after SIGTERM, before SIGKILL.
  static constexpr std::chrono::milliseconds kStopGrace{1000};
  static constexpr std::chrono::seconds kAttachTimeout{5};
  static constexpr std::chrono::seconds kPrefillTimeout{2};

  // Thread: control. `segment` (created, its header and slots filled) must outlive the
  // supervisor; `segment_name` is what the workers are told, for their messages and attach.
  WorkerSupervisor(Segment& segment, std::string segment_name, WorkerFailurePolicy policy,
                   bool offline, Now now = &Clock::now);
  // Thread: control. Stops and reaps whatever still runs (stop_all), so that no worker outlives
  // the run. Blocks up to twice kStopGrace.
  ~WorkerSupervisor();
  WorkerSupervisor(const WorkerSupervisor&) = delete;
  WorkerSupervisor& operator=(const WorkerSupervisor&) = delete;

  // Thread: control. Allocates, spawns. Starts one worker per slot of the segment. On failure
  // the ones started are kept, for stop_all to reap.
  bool spawn_all(std::string& error);

  // Thread: control, before spawn_all. --cpus: worker w (and its replacements) runs on
  // cpus[w % size]; empty (the default): wherever the kernel schedules it.
  void set_worker_cpus(std::vector<int> cpus) { cpus_ = std::move(cpus); }

  // Thread: control. The descriptor (the signalfd) whose readability interrupts the start-up
  // waits and hurries stop_all(); -1 (the default): none.
  void set_interrupt_fd(int fd) noexcept { interrupt_fd_ = fd; }

  // Thread: control. Blocks (futex, never spinning) until every worker has attached, up to
  // kAttachTimeout. False with `error` when one died while starting or time ran out, or
  // (`error` empty) when the interrupt descriptor became readable: checked at least every
  // 100 ms.
  bool wait_until_attached(std::string& error);

  // Thread: control. Blocks until every worker's ring holds `fill_target_frames`, a worker
  // dies, kPrefillTimeout passes in all, or the interrupt descriptor becomes readable (checked
  // at least every 100 ms): a late worker is the mixer's to count, not fatal. A worker that
  // died meanwhile is left for reap_exited() to report and act on.
  void wait_for_prefill(std::uint32_t fill_target_frames);

  // Thread: control. Adds the pidfd of every worker still running, to poll for POLLIN.
  void add_poll_fds(std::vector<pollfd>& fds) const;

  // Thread: control. Reaps workers that exited, marks their slots exited for the mixer, and
  // acts on --on-worker-failure. Appends one message per death to `errors` (for stderr).
  // Returns false when the run must end (abort).
  bool reap_exited(std::vector<std::string>& errors);

  // Thread: control. Starts the replacements that are due: planned, their back-off over, and
  // `mixer_stopped_slot(worker)` true. Appends one line per start to `notices` (for stdout).
  // False with `error` when one cannot be started.
  bool start_due_replacements(const std::function<bool(std::uint32_t worker)>& mixer_stopped_slot,
                              std::vector<std::string>& notices, std::string& error);

  // Thread: control. Asks every worker to leave (the shutdown flag, and a wake for those that
  // sleep), then waits, SIGTERM, SIGKILL, each after kStopGrace, and reaps all. Blocks.
  // Idempotent. No death after this counts as a failure. When the interrupt descriptor becomes
  // readable meanwhile (a second signal), the rest get SIGKILL at once: returns true then.
  bool stop_all();

  // How the workers' own memory locking went: how many could not lock, and the first errno.
  struct MemoryLocks {
    unsigned failures = 0;
    int first_errno = 0;
  };
  // Thread: control, after wait_until_attached (whose acquire published the slots' values).
  MemoryLocks memory_locks() const;

  // Thread: control. The current process of each slot, in slot order.
  const std::vector<WorkerProcess>& workers() const noexcept { return workers_; }

 private:
  // --on-worker-failure restart: asks the mixer to stop the dead worker's slot now, and plans
  // its replacement; returns its back-off.
  std::chrono::milliseconds plan_replacement(const WorkerProcess& worker);

  Segment& segment_;
  std::string segment_name_;
  std::string executable_;
  std::vector<int> cpus_;  // --cpus
  WorkerFailurePolicy policy_;
  bool offline_;
  Now now_;
  std::vector<WorkerProcess> workers_;
  std::vector<RestartBackoff> restarts_;  // one per slot
  bool stopped_ = false;
  int interrupt_fd_ = -1;
};

}  // namespace synthfarm
