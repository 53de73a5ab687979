#pragma once
// Timing facts under a busy machine, without blind retries (docs/TESTING.md, "Timing facts").
//
// A process test that asserts a timing fact (no underrun for a healthy worker, a dead worker
// named within 100 ms, an exit within 2 s, the callback rate) runs on 2 cores that the rest of
// the machine shares. When the fact does not hold, the test asks the kernel how long the
// threads that had to act were runnable but waiting for a CPU (their run-queue wait,
// /proc/PID/task/TID/schedstat; for processes already gone, the machine's CPU pressure,
// /proc/pressure/cpu). Only when that wait covers the miss is the attempt excused and
// run again; a miss the wait does not cover is the product's and fails at once. An attempt is
// repeated at most `attempts` times, and a test whose every attempt was excused fails too: a
// test passes only on an attempt where its facts held.
//
// Header-only: it uses GoogleTest's assertions.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace synthfarm::testing {

// Run-queue wait so far of every live thread of `pid`, by thread id (nanoseconds; the second
// field of schedstat). Empty when the process is gone.
inline std::map<pid_t, std::uint64_t> run_queue_wait_by_thread(pid_t pid) {
  std::map<pid_t, std::uint64_t> waits;
  std::error_code error;
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : std::filesystem::directory_iterator(tasks, error)) {
    std::ifstream schedstat(task.path() / "schedstat");
    std::uint64_t on_cpu_ns = 0, waiting_ns = 0;
    if (schedstat >> on_cpu_ns >> waiting_ns) {
      waits[static_cast<pid_t>(std::stol(task.path().filename().string()))] = waiting_ns;
    }
  }
  return waits;
}

// How long the threads of some processes waited for a CPU from construction to now, in all.
// Pass the test's own pid too when the test's threads take part in the timing (they read the
// child's output and stamp the time).
// A thread that started since counts from 0; one that ended since counts what it had at the
// start (its later wait is lost, which only makes the excuse smaller).
class RunQueueWait {
 public:
  static constexpr const char* kWhat = "the threads that had to act waited";
  explicit RunQueueWait(std::vector<pid_t> pids) : pids_(std::move(pids)) {
    for (pid_t pid : pids_) start_[pid] = run_queue_wait_by_thread(pid);
  }
  // Counts from each thread's start instead: for a fact about the whole run (its underruns).
  static RunQueueWait over_whole_life(std::vector<pid_t> pids) {
    RunQueueWait wait(std::move(pids));
    for (auto& [pid, threads] : wait.start_) threads.clear();
    return wait;
  }

  std::chrono::nanoseconds since_start() const {
    std::uint64_t total = 0;
    for (pid_t pid : pids_) {
      const auto& before = start_.at(pid);
      for (const auto& [thread, waited] : run_queue_wait_by_thread(pid)) {
        const auto earlier = before.find(thread);
        const std::uint64_t from = earlier == before.end() ? 0 : earlier->second;
        if (waited > from) total += waited - from;
      }
    }
    return std::chrono::nanoseconds(total);
  }

 private:
  std::vector<pid_t> pids_;
  std::map<pid_t, std::map<pid_t, std::uint64_t>> start_;
};

// The least delay that can make a healthy worker late: one buffer of the default 256 frames at
// 48 kHz (a punctual worker is 1 to 2 buffers ahead, and renders a block in far less).
inline constexpr std::chrono::microseconds kOnePeriod{256 * 1'000'000 / 48'000};

// What an attempt measured when it excused a fact that did not hold.
struct MachineStall {
  bool excused = false;
  std::string why;
};

inline double in_ms(std::chrono::nanoseconds duration) {
  return std::chrono::duration<double, std::milli>(duration).count();
}

// The machine's own account of CPU contention, for facts whose processes are gone when they are
// judged (an exit time): the wall time during which some runnable task on the machine had no
// CPU (/proc/pressure/cpu, "some"). Zero where the kernel has no pressure information.
class CpuPressure {
 public:
  static constexpr const char* kWhat = "some task on the machine waited";
  CpuPressure() : start_us_(some_total_us()) {}
  std::chrono::nanoseconds since_start() const {
    return std::chrono::microseconds(some_total_us() - start_us_);
  }

 private:
  static std::uint64_t some_total_us() {
    std::ifstream pressure("/proc/pressure/cpu");
    std::string word;
    while (pressure >> word) {
      if (word.rfind("total=", 0) == 0) return std::stoull(word.substr(6));  // the "some" line
    }
    return 0;
  }
  std::uint64_t start_us_;
};

// The clock's own account of a stall that the run-queue figures cannot see (a virtual machine
// whose CPU the hypervisor takes away: measured here with cyclictest, a SCHED_FIFO thread woke
// about 10 ms late once in 30 s per CPU). The null clock is our highest-priority thread, and it
// counts every wake of a whole period late as a device underflow; when its callback never took
// a whole period itself (callback_max_us below period_us on synthfarm's `final:` line), nothing
// of ours held it up: the machine did, for at least a period per late wake. Zero otherwise.
struct ClockLateWakes {
  static constexpr const char* kWhat =
      "the clock, our highest-priority thread, woke a period late; in all it";
  std::chrono::nanoseconds measured{0};
  std::chrono::nanoseconds since_start() const { return measured; }

  static ClockLateWakes from_final_line(const std::string& stdout_text) {
    std::smatch match;
    if (!std::regex_search(stdout_text, match,
                           std::regex("final: .*callback_max_us=([0-9.]+) period_us=([0-9.]+) "
                                      "device_underflows=([0-9]+)"))) {
      return {};
    }
    const double callback_max_us = std::stod(match[1]);
    const double period_us = std::stod(match[2]);
    const auto late_wakes = std::stoull(match[3]);
    if (callback_max_us >= period_us) return {};
    return {std::chrono::nanoseconds(
        static_cast<std::int64_t>(static_cast<double>(late_wakes) * period_us * 1000.0))};
  }
};

// How late a probe's wake was that the kernel cannot account for: the time from when its timer
// was due to when it ran, less the time it spent runnable in the run queue meanwhile (which a
// busy CPU explains, and RunQueueWait and CpuPressure already measure). What remains is time the
// CPU itself was gone: a hypervisor that ran another guest on it.
inline std::chrono::nanoseconds unaccounted_lateness(std::chrono::nanoseconds due,
                                                     std::chrono::nanoseconds woke,
                                                     std::chrono::nanoseconds run_queue_wait) {
  const auto late = woke - due - run_queue_wait;
  return late > std::chrono::nanoseconds(0) ? late : std::chrono::nanoseconds(0);
}

// The machine's stalls that no run-queue figure shows (a virtual machine whose CPU the hypervisor
// takes away; cyclictest here: about 10 ms once per 30 s per CPU), measured beside the run: one
// probe thread per CPU this process may use, pinned there, wakes every millisecond (an absolute
// sleep, never a spin) and keeps the longest unaccounted lateness of a wake. A worker or the
// clock on that CPU was held off just as long; a defect of synthfarm (a thread hogging a CPU, a
// long system call) makes the probe wait in the run queue instead, which is subtracted.
class HiddenStalls {
 public:
  static constexpr const char* kWhat =
      "a CPU itself stalled (a probe pinned there woke that late beyond its run-queue wait), and "
      "every thread on it waited";
  // Thread: the test. Starts the probes; they run until destruction.
  HiddenStalls() {
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return;
    try {
      for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (CPU_ISSET(cpu, &allowed)) probes_.emplace_back([this, cpu] { probe(cpu); });
      }
    } catch (...) {
      stop();  // the destructor does not run for a constructor that throws
      throw;
    }
  }
  ~HiddenStalls() { stop(); }
  HiddenStalls(const HiddenStalls&) = delete;
  HiddenStalls& operator=(const HiddenStalls&) = delete;

  // Thread: any. The longest stall so far.
  std::chrono::nanoseconds since_start() const {
    return std::chrono::nanoseconds(longest_ns_.load());
  }

 private:
  static std::chrono::nanoseconds monotonic_now() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
  }
  // This thread's run-queue wait so far (schedstat's second field); nullopt when unreadable.
  static std::optional<std::chrono::nanoseconds> own_run_queue_wait(int schedstat) {
    char text[128] = {};
    if (pread(schedstat, text, sizeof text - 1, 0) <= 0) return std::nullopt;
    char* end = nullptr;
    std::strtoull(text, &end, 10);
    return std::chrono::nanoseconds(std::strtoull(end, nullptr, 10));
  }

  void probe(int cpu) {
    cpu_set_t only;
    CPU_ZERO(&only);
    CPU_SET(cpu, &only);
    if (pthread_setaffinity_np(pthread_self(), sizeof only, &only) != 0) return;
    const int schedstat = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    if (schedstat < 0) return;
    std::optional<std::chrono::nanoseconds> waited = own_run_queue_wait(schedstat);
    std::chrono::nanoseconds due = monotonic_now();
    while (!done_.load()) {
      due += std::chrono::milliseconds(1);
      const timespec until{static_cast<time_t>(due.count() / 1'000'000'000),
                           static_cast<long>(due.count() % 1'000'000'000)};
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr);
      const std::chrono::nanoseconds woke = monotonic_now();
      const std::optional<std::chrono::nanoseconds> waited_now = own_run_queue_wait(schedstat);
      // A wake whose wait could not be read on both sides is not judged: unknown is no stall.
      const auto stall = waited && waited_now
                             ? unaccounted_lateness(due, woke, *waited_now - *waited).count()
                             : std::int64_t{0};
      waited = waited_now;
      for (auto longest = longest_ns_.load(); stall > longest;) {
        if (longest_ns_.compare_exchange_weak(longest, stall)) break;
      }
      if (woke > due) due = woke;  // a late wake starts the next millisecond; no catching up
    }
    close(schedstat);
  }

  void stop() {
    done_.store(true);
    for (std::thread& probe : probes_) probe.join();
    probes_.clear();
  }

  std::atomic<bool> done_{false};
  std::atomic<std::int64_t> longest_ns_{0};
  std::vector<std::thread> probes_;
};

// A measurement read when its interval ended, judged later by excused_by.
template <typename Meter>
struct Frozen {
  static constexpr const char* kWhat = Meter::kWhat;
  std::chrono::nanoseconds measured;
  std::chrono::nanoseconds since_start() const { return measured; }
};

// Thread: the test. For a timing fact that did not hold (`fact` says which, with the number):
// returns true, and records why in `stall`, when `meter` (a RunQueueWait of the threads that had
// to act, or a CpuPressure) measured at least `missed_by`, the amount by which the fact was
// missed; the caller then skips that assertion. Returns false when the measurement does not
// cover the miss: the caller asserts the fact, which fails.
template <typename Meter>
bool excused_by(const Meter& meter, std::chrono::nanoseconds missed_by, const std::string& fact,
                MachineStall& stall) {
  const std::chrono::nanoseconds waited = meter.since_start();
  if (waited < missed_by || waited.count() == 0) return false;
  char numbers[200];
  std::snprintf(numbers, sizeof numbers, " (missed by %.1f ms while %s %.1f ms for a CPU)",
                in_ms(missed_by), Meter::kWhat, in_ms(waited));
  stall.excused = true;
  stall.why += (stall.why.empty() ? "" : "; ") + fact + numbers;
  return true;
}

// Thread: the test. Expects `elapsed` (what `what` took) under `limit`, unless `meter` covers
// the excess (excused_by).
template <typename Meter>
void expect_within(std::chrono::nanoseconds elapsed, std::chrono::nanoseconds limit,
                   const Meter& meter, const std::string& what, MachineStall& stall) {
  char took[64];
  std::snprintf(took, sizeof took, " took %.1f ms", in_ms(elapsed));
  const bool excused = elapsed >= limit && excused_by(meter, elapsed - limit, what + took, stall);
  if (!excused) {
    EXPECT_LT(elapsed, limit) << what << took << ", over the limit of " << in_ms(limit) << " ms";
  }
}

// Runs `attempt(MachineStall&)` until one is not excused, at most `attempts` times. An attempt
// with a failure ends the test's attempts (its failure stands); one excused every time fails.
inline constexpr int kTimingAttempts = 5;  // how often the process tests judge a timing fact

template <typename Attempt>
void retry_while_machine_stalled(int attempts, Attempt&& attempt) {
  std::string last_why;
  for (int n = 1; n <= attempts; ++n) {
    MachineStall stall;
    attempt(stall);
    if (::testing::Test::HasFailure() || !stall.excused) return;
    last_why = stall.why;
    std::fprintf(stderr, "[ machine stalled ] attempt %d of %d: %s; running again\n", n, attempts,
                 last_why.c_str());
  }
  ADD_FAILURE() << attempts << " attempts in a row missed a timing fact while the machine "
                << "withheld the CPU; too busy to judge. Last: " << last_why;
}

}  // namespace synthfarm::testing
