#include "coordinator/mix/worker_waker.h"

#include <pthread.h>
#include <sched.h>

#include <chrono>
#include <future>

namespace synthfarm {
namespace {

// Only to notice stop_ without a wake; notify() and the destructor wake it at once.
constexpr std::chrono::milliseconds kRecheck{100};

}  // namespace

WorkerWaker::WorkerWaker(const Segment& segment, const ThreadScheduling& scheduling,
                         int fallback_nice)
    : segment_(segment), wanted_(scheduling), fallback_nice_(fallback_nice) {
  std::promise<void> applied;
  std::future<void> ready = applied.get_future();
  thread_ = std::thread([this, &applied] {
    applied_ = apply_thread_scheduling(wanted_, fallback_nice_);
    applied.set_value();  // the constructor's caller may read scheduling() from now on
    run();
  });
  pthread_setname_np(thread_.native_handle(), "synthfarm-wake");
  ready.wait();
}

WorkerWaker::~WorkerWaker() {
  stop_.store(true, std::memory_order_release);
  wake_always(wake_);
  if (thread_.joinable()) thread_.join();
}

void WorkerWaker::run() noexcept {
  std::uint64_t handled = 0;
  while (!stop_.load(std::memory_order_acquire)) {
    // Acquire pairs with notify()'s release: a new count means new room in some ring. Either
    // this sees it, or notify() sees this thread waiting and wakes it (shared_futex.h).
    sleep_until_ready(
        wake_,
        [&] {
          return stop_.load(std::memory_order_acquire) ||
                 callbacks_.load(std::memory_order_acquire) != handled;
        },
        kRecheck);
    handled = callbacks_.load(std::memory_order_acquire);
    // Relaxed: the callback's notify() after its request published it (release, acquired above).
    const bool wake_all = wake_all_.exchange(false, std::memory_order_relaxed);
    const std::uint32_t workers = segment_.header().worker_count;
    for (std::uint32_t w = 0; w < workers; ++w) {
      if (wake_all) {
        wake_always(segment_.slot(w).space_ready);  // the grant changed: the worker must look
      } else {
        notify_sleeper(segment_.slot(w).space_ready);
      }
    }
  }
}

}  // namespace synthfarm
