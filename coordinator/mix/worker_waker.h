#pragma once
// Wakes the workers on behalf of the audio callback.
//
// A worker that has filled its ring sleeps on a futex until the mixer has consumed from it.
// Waking a sleeping thread costs the waker a syscall and, on the 2-core VM this was measured on,
// 5-6 us each (an inter-processor interrupt): waking 16 workers from the callback took 92 us
// (1.7 % of a 256-frame period), far more than the mixing itself (1.1 us). So the callback
// notifies this one thread instead (a fence and a load; one futex wake only when the thread
// sleeps), and this thread wakes the workers. The extra hop costs tens of microseconds of the
// workers' 2-buffer lead, which is what that lead is for. Its priority sits between the audio
// thread's and the workers' (shared/realtime_policy.h): it never pre-empts the graph it serves.

#include <atomic>
#include <cstdint>
#include <thread>

#include "shared/realtime_policy.h"
#include "shared/segment.h"
#include "shared/shared_futex.h"

namespace synthfarm {

class WorkerWaker {
 public:
  // Thread: control. May block until the waker thread has applied `scheduling` (the plan of
  // shared/realtime_policy.h: SCHED_FIFO just below the audio thread, or SCHED_OTHER); a refused
  // SCHED_FIFO falls back to SCHED_OTHER at `fallback_nice`.
  WorkerWaker(const Segment& segment, const ThreadScheduling& scheduling, int fallback_nice);
  // Thread: control, after the output has stopped calling notify(). Stops and joins the thread.
  ~WorkerWaker();
  WorkerWaker(const WorkerWaker&) = delete;
  WorkerWaker& operator=(const WorkerWaker&) = delete;

  // Thread: any. What the waker thread runs with (read back after applying it).
  const AppliedScheduling& scheduling() const noexcept { return applied_; }

  // Thread: the output (one thread only), after the mixer has released the frames it consumed.
  // RT-safe: a relaxed counter update, a fence and a load; a futex wake only when the waker
  // sleeps.
  void notify() noexcept {
    // Only the output thread writes it. Release: the waker, seeing the new count, also sees the
    // read positions the mixer released before it.
    callbacks_.store(callbacks_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    notify_sleeper(wake_);
  }

  // Thread: the output, before its notify() of the same call. RT-safe: one relaxed store. At the
  // waker's next round it wakes every worker unconditionally (the mixer granted or withdrew
  // rendering: `play`/`stop`), so that the callback itself makes no futex syscall for it.
  void request_wake_all() noexcept { wake_all_.store(true, std::memory_order_relaxed); }

 private:
  void run() noexcept;

  const Segment& segment_;
  ThreadScheduling wanted_;
  int fallback_nice_;
  AppliedScheduling applied_;  // written by the thread before `ready_`, then read-only
  WakeWord wake_;
  std::atomic<std::uint64_t> callbacks_{0};  // notify() calls so far
  std::atomic<bool> wake_all_{false};        // request_wake_all() since the last round
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace synthfarm
