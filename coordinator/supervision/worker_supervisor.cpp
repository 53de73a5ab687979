#include "coordinator/supervision/worker_supervisor.h"

#include "coordinator/supervision/cpu_placement.h"

#include <algorithm>
#include <utility>

#include "shared/shared_futex.h"

namespace synthfarm {
namespace {

using namespace std::chrono_literals;

// Whether the worker has exited, without reaping it: its pidfd is readable. Left unreaped, it
// is reported by reap_exited() under the failure policy like any other death.
bool has_exited(const WorkerProcess& worker) {
  pollfd exited{worker.pidfd, POLLIN, 0};
  return !worker.reaped && poll(&exited, 1, 0) == 1;
}

std::string describe_worker(const WorkerProcess& worker) {
  return "worker " + std::to_string(worker.index) + " (pid " + std::to_string(worker.pid) + ") " +
         describe_wait_status(worker.wait_status);
}

}  // namespace

WorkerSupervisor::WorkerSupervisor(Segment& segment, std::string segment_name,
                                   WorkerFailurePolicy policy, bool offline, Now now)
    : segment_(segment),
      segment_name_(std::move(segment_name)),
      policy_(policy),
      offline_(offline),
      now_(std::move(now)),
      restarts_(segment.header().worker_count) {}

WorkerSupervisor::~WorkerSupervisor() {
  stop_all();
}

bool WorkerSupervisor::spawn_all(std::string& error) {
  executable_ = worker_executable_path();
  for (std::uint32_t w = 0; w < segment_.header().worker_count; ++w) {
    auto worker = spawn_worker(executable_, segment_name_, segment_.descriptor(), w, error,
                               worker_cpu(cpus_, w));
    if (!worker) return false;
    workers_.push_back(*worker);
  }
  return true;
}

bool WorkerSupervisor::wait_until_attached(std::string& error) {
  const auto all_attached = [&] {
    return std::all_of(workers_.begin(), workers_.end(), [&](const WorkerProcess& worker) {
      // Acquire pairs with the worker's release of `attached`.
      return segment_.slot(worker.index).attached.load(std::memory_order_acquire) != 0;
    });
  };
  const auto deadline = std::chrono::steady_clock::now() + kAttachTimeout;
  while (!all_attached()) {
    for (auto& worker : workers_) {
      if (reap_if_exited(worker)) {
        error = describe_worker(worker) + " while starting; see its message above";
        return false;
      }
    }
    if (descriptor_readable(interrupt_fd_)) {
      error.clear();
      return false;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      error = "workers did not attach to the shared memory within " +
              std::to_string(kAttachTimeout.count()) + " s (is the machine overloaded?)";
      return false;
    }
    sleep_until_ready(segment_.header().attach_wake, all_attached, 100ms);
  }
  return true;
}

void WorkerSupervisor::wait_for_prefill(std::uint32_t fill_target_frames) {
  const auto deadline = std::chrono::steady_clock::now() + kPrefillTimeout;
  for (auto& worker : workers_) {
    WorkerSlot& slot = segment_.slot(worker.index);
    SpscRing ring = segment_.ring(worker.index);
    const auto filled = [&] { return ring.available_frames() >= fill_target_frames; };
    while (!filled() && std::chrono::steady_clock::now() < deadline && !has_exited(worker)) {
      if (descriptor_readable(interrupt_fd_)) return;
      sleep_until_ready(slot.data_ready, filled, 100ms);
    }
  }
}

void WorkerSupervisor::add_poll_fds(std::vector<pollfd>& fds) const {
  for (const auto& worker : workers_) {
    if (!worker.reaped) fds.push_back({worker.pidfd, POLLIN, 0});
  }
}

bool WorkerSupervisor::reap_exited(std::vector<std::string>& errors) {
  bool keep_playing = true;
  for (auto& worker : workers_) {
    if (!reap_if_exited(worker)) continue;
    // Release pairs with the mixer's acquire: it stops reading this ring.
    segment_.slot(worker.index).exited.store(1, std::memory_order_release);
    wake_always(segment_.slot(worker.index).data_ready);  // an offline render may wait on it
    if (stopped_) continue;
    worker.died_while_playing = true;
    const std::string what = describe_worker(worker);
    switch (decide_worker_death_action(policy_, offline_)) {
      case WorkerDeathAction::kReportOnly:
        errors.push_back(what);  // the render stops at its next block and says so
        break;
      case WorkerDeathAction::kRestart: {
        const auto delay = plan_replacement(worker);
        errors.push_back(what + "; starting a new worker for its oscillators" +
                         (delay.count() > 0 ? " in " + std::to_string(delay.count()) + " ms" : "") +
                         " (--on-worker-failure restart)");
        break;
      }
      case WorkerDeathAction::kAbort:
        errors.push_back(what + "; stopping everything (--on-worker-failure abort)");
        keep_playing = false;
        break;
      case WorkerDeathAction::kSilence:
        errors.push_back(what + "; its oscillators are silent from now on, the others play on");
        break;
    }
  }
  return keep_playing;
}

std::chrono::milliseconds WorkerSupervisor::plan_replacement(const WorkerProcess& worker) {
  WorkerSlot& slot = segment_.slot(worker.index);
  const bool user_stopped = slot.requested_state.load(std::memory_order_relaxed) ==
                            static_cast<std::uint32_t>(RequestedState::kStop);
  const auto delay = restarts_[worker.index].plan(now_(), user_stopped);
  // The mixer skips an exited slot. Un-mark it with a stop request in place (release: the
  // mixer sees the request with the flag), so the mixer fades out what the ring still holds
  // and marks the slot stopped; the new worker then starts stopped and sleeps until `play`.
  slot.requested_state.store(static_cast<std::uint32_t>(RequestedState::kStop),
                             std::memory_order_release);
  slot.exited.store(0, std::memory_order_release);
  return delay;
}

bool WorkerSupervisor::start_due_replacements(
    const std::function<bool(std::uint32_t worker)>& mixer_stopped_slot,
    std::vector<std::string>& notices, std::string& error) {
  const auto now = now_();
  for (std::uint32_t w = 0; w < restarts_.size(); ++w) {
    RestartBackoff& restart = restarts_[w];
    if (!restart.pending() || !restart.due(now, mixer_stopped_slot(w))) continue;
    auto worker = spawn_worker(executable_, segment_name_, segment_.descriptor(), w, error,
                               worker_cpu(cpus_, w));
    if (!worker) return false;
    workers_[w] = *worker;
    restart.started(now);
    if (!restart.keep_stopped()) {
      // Release pairs with the mixer's acquire: it resumes the slot with a fade-in, on the
      // common timeline, once the new worker delivers.
      segment_.slot(w).requested_state.store(static_cast<std::uint32_t>(RequestedState::kPlay),
                                             std::memory_order_release);
    }
    notices.push_back("worker " + std::to_string(w) + " restarted, pid " +
                      std::to_string(worker->pid));
  }
  return true;
}

bool WorkerSupervisor::stop_all() {
  if (stopped_) return false;  // every worker was reaped then
  stopped_ = true;
  // Release pairs with the workers' acquire of `shutdown`.
  segment_.header().shutdown.store(1, std::memory_order_release);
  for (std::uint32_t w = 0; w < segment_.header().worker_count; ++w) {
    wake_always(segment_.slot(w).space_ready);
  }
  return stop_and_reap_workers(workers_, kStopGrace, interrupt_fd_);
}

WorkerSupervisor::MemoryLocks WorkerSupervisor::memory_locks() const {
  MemoryLocks locks;
  for (const auto& worker : workers_) {
    // Relaxed: published by the worker's release of `attached`, which attach waited for.
    const int error = segment_.slot(worker.index).memory_lock_errno.load(std::memory_order_relaxed);
    if (error != 0 && locks.failures++ == 0) locks.first_errno = error;
  }
  return locks;
}

}  // namespace synthfarm
