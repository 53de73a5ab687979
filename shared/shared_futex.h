#pragma once
// Sleeping and waking across processes without spinning and without any Boost.Interprocess
// mutex, condition or semaphore (those stay locked for ever when their holder dies).
//
// A *shared* futex is required: std::atomic::wait in libstdc++ uses private futexes, which
// only wake threads of the same process.
//
// Protocol on a WakeWord (a Dekker-style handshake, hence the two seq_cst fences):
//   sleeper:  seq = sequence; waiting = 1; fence; if (!ready()) futex_wait(sequence, seq)
//   waker:    publish data;             fence; if (waiting) { waiting = 0; ++sequence; wake }
// Either the waker sees `waiting`, or the sleeper sees the published data. If the waker bumps
// `sequence` between the sleeper's load and its futex_wait, the kernel sees a changed word and
// returns at once, so no wake-up is lost.

#include <atomic>
#include <chrono>
#include <cstdint>

#include "shared/segment_layout.h"

namespace synthfarm {

// Thread: any non-real-time thread. Blocks until woken or until `timeout` passes.
// Returns false on timeout. Spurious returns are possible: callers recheck their condition.
bool futex_wait_shared(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                       std::chrono::nanoseconds timeout) noexcept;

// Thread: any. RT-safe: one syscall, no allocation, no lock. Wakes every sleeper on `word`.
void futex_wake_shared(std::atomic<std::uint32_t>& word) noexcept;

// Thread: the sleeping side. Blocks (never spins) until `ready()` is true, `timeout` passes or
// somebody notifies `wake`. Returns ready() as last evaluated. `timed_out`, when given, is set
// to whether the sleep ended because `timeout` passed (and not by a wake or a ready condition):
// a caller with periodic chores (a worker's look at its parent) does them only then, so that a
// busy real-time loop makes no extra syscall per wake.
template <typename Ready>
bool sleep_until_ready(WakeWord& wake, Ready&& ready, std::chrono::nanoseconds timeout,
                       bool* timed_out = nullptr) noexcept {
  if (timed_out != nullptr) *timed_out = false;
  const std::uint32_t sequence = wake.sequence.load(std::memory_order_acquire);
  wake.waiting.store(1, std::memory_order_relaxed);
  // Pairs with the fence in notify_sleeper: orders our `waiting` store before ready()'s loads.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (ready()) {
    wake.waiting.store(0, std::memory_order_relaxed);
    return true;
  }
  const bool woken = futex_wait_shared(wake.sequence, sequence, timeout);
  if (timed_out != nullptr) *timed_out = !woken;
  wake.waiting.store(0, std::memory_order_relaxed);
  return ready();
}

// Thread: the publishing side, after it has published (release) what the sleeper waits for.
// RT-safe: a fence and a load; a syscall only when somebody said it sleeps.
inline void notify_sleeper(WakeWord& wake) noexcept {
  // Pairs with the fence in sleep_until_ready: orders the caller's publication before the
  // load of `waiting` below.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (wake.waiting.load(std::memory_order_relaxed) == 0) return;
  // exchange: of several notifiers racing, only one pays for the syscall.
  if (wake.waiting.exchange(0, std::memory_order_relaxed) == 0) return;
  // Release: the sleeper's acquire load of `sequence` then sees what was published.
  wake.sequence.fetch_add(1, std::memory_order_release);
  futex_wake_shared(wake.sequence);
}

// Thread: any non-real-time thread (the audio callback asks the waker to do it: see
// WorkerWaker::wake_all). Wakes the sleepers whatever they said, for rare events (state
// changes, shutdown); never blocks.
inline void wake_always(WakeWord& wake) noexcept {
  wake.sequence.fetch_add(1, std::memory_order_release);
  futex_wake_shared(wake.sequence);
}

}  // namespace synthfarm
