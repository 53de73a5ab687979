#pragma once
// Small helpers for the real-time paths (the audio callback and the worker render loop).

#include <time.h>

#include <atomic>
#include <cstdint>

namespace synthfarm {

// RT-safe: CLOCK_MONOTONIC through the vDSO, no syscall.
inline std::uint64_t monotonic_ns() noexcept {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000ull +
         static_cast<std::uint64_t>(now.tv_nsec);
}

// Absolute CLOCK_MONOTONIC deadlines as signed nanoseconds, for clock_nanosleep(TIMER_ABSTIME)
// loops that compare a wake-up with its deadline (the null clock, the bench's wake-up probe).
// RT-safe: arithmetic only.
inline constexpr std::int64_t kNanosPerSecond = 1'000'000'000;

inline std::int64_t timespec_to_ns(const timespec& time) noexcept {
  return std::int64_t{time.tv_sec} * kNanosPerSecond + time.tv_nsec;
}

inline timespec timespec_from_ns(std::int64_t ns) noexcept {
  return timespec{static_cast<time_t>(ns / kNanosPerSecond),
                  static_cast<long>(ns % kNanosPerSecond)};
}

// For a counter that only one thread writes and others read (relaxed: statistics). A plain
// load + store avoids the locked read-modify-write of fetch_add.
inline void add_relaxed(std::atomic<std::uint64_t>& counter, std::uint64_t amount) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
}

}  // namespace synthfarm
