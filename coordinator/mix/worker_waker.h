#pragma once
// Wakes the workers on behalf of the audio callback.
//
// A worker that has filled its ring sleeps on a futex until the mixer has consumed from it.
// Waking a sleeping thread costs the waker a syscall and, on the 2-core VM this was measured on,
// 5-6 us each (an inter-processor interrupt): waking 16 workers from the callback took 92 us
// (1.7 % of a 256-frame period), far more than the mixing itself (1.1 us). So the callback
// notifies this one thread instead (a fence and a load; one futex wake only when the thread
// sleeps), and this thread wakes the workers. The extra hop costs tens of microseconds of the
// workers' 2-buffer lead, which is what that lead is for.

#include <atomic>
#include <cstdint>
#include <thread>

#include "shared/segment.h"
#include "shared/shared_futex.h"

namespace synthfarm {

class WorkerWaker {
 public:
  // Thread: control. Starts the waker thread; it asks for SCHED_FIFO just below the audio
  // thread's priority and carries on at normal priority when refused.
  explicit WorkerWaker(const Segment& segment);
  // Thread: control, after the output has stopped calling notify(). Stops and joins the thread.
  ~WorkerWaker();
  WorkerWaker(const WorkerWaker&) = delete;
  WorkerWaker& operator=(const WorkerWaker&) = delete;

  // Thread: the output (one thread only), after the mixer has released the frames it consumed.
  // RT-safe: a relaxed counter update, a fence and a load; a futex wake only when the waker
  // sleeps.
  void notify() noexcept {
    // Only the output thread writes it. Release: the waker, seeing the new count, also sees the
    // read positions the mixer released before it.
    callbacks_.store(callbacks_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    notify_sleeper(wake_);
  }

 private:
  void run() noexcept;

  const Segment& segment_;
  WakeWord wake_;
  std::atomic<std::uint64_t> callbacks_{0};  // notify() calls so far
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace synthfarm
