#include "coordinator/mix/worker_waker.h"

#include <pthread.h>
#include <sched.h>

#include <chrono>

namespace synthfarm {
namespace {

// Below the null clock's 70 and RtAudio's 80: the audio thread always comes first.
constexpr int kWakerPriority = 60;
// Only to notice stop_ without a wake; notify() and the destructor wake it at once.
constexpr std::chrono::milliseconds kRecheck{100};

}  // namespace

WorkerWaker::WorkerWaker(const Segment& segment) : segment_(segment) {
  thread_ = std::thread([this] { run(); });
  pthread_setname_np(thread_.native_handle(), "synthfarm-wake");
}

WorkerWaker::~WorkerWaker() {
  stop_.store(true, std::memory_order_release);
  wake_always(wake_);
  if (thread_.joinable()) thread_.join();
}

void WorkerWaker::run() noexcept {
  sched_param parameters{};
  parameters.sched_priority = kWakerPriority;
  pthread_setschedparam(pthread_self(), SCHED_FIFO, &parameters);  // refused: normal priority
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
    const std::uint32_t workers = segment_.header().worker_count;
    for (std::uint32_t w = 0; w < workers; ++w) notify_sleeper(segment_.slot(w).space_ready);
  }
}

}  // namespace synthfarm
