#pragma once
// One real-time thread policy for every thread of ours that the audio depends on: the output
// thread (whose priority the audio system or the null clock sets), the coordinator's waker and
// each worker's render thread.
//
// Like JACK clients, PipeWire nodes and supernova's DSP threads, ours run real-time *below* the
// thread that drives the graph: the waker one step below the output thread, the workers one step
// below the waker, so nothing of ours can pre-empt the callback it serves. When the output thread
// is not real-time (JACK without -R, no privilege), nothing of ours is either: a SCHED_FIFO
// worker would starve the callback it feeds. SCHED_FIFO only where RLIMIT_RTPRIO or CAP_SYS_NICE
// allows it (and a trial on a throwaway thread agrees); otherwise SCHED_OTHER at the best nice
// value allowed, none of ours real-time.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace synthfarm {

// What a thread asks for. `realtime`: SCHED_FIFO at `priority`; else SCHED_OTHER at `nice`.
struct ThreadScheduling {
  bool realtime = false;
  int priority = 0;  // 1-99 when realtime, else 0
  int nice = 0;      // SCHED_OTHER only
};

// What the system allows this process, as far as scheduling goes.
struct RealtimeAllowance {
  std::uint64_t rtprio_limit = 0;  // RLIMIT_RTPRIO's soft limit (RLIM_INFINITY counts as 99)
  bool cap_sys_nice = false;       // CAP_SYS_NICE in the effective set (root has it)
  int best_nice = 0;               // the lowest nice value this process may set
  // A throwaway thread's try of SCHED_FIFO at the wanted priority: 0 granted, else the errno
  // (a cgroup without real-time runtime refuses even root).
  int trial_errno = 0;
};

// What each of our threads should get.
struct RealtimePlan {
  ThreadScheduling waker;
  ThreadScheduling worker;
  // What a thread whose SCHED_FIFO is refused after all falls back to (SCHED_OTHER).
  int fallback_nice = 0;
  // Why ours are not real-time, or "" when they are: for the start-up report.
  std::string reason;
};

// Thread: any. Pure. `output_priority`: the output thread's SCHED_FIFO/RR priority, nullopt when
// it is not real-time. The waker gets output - 1, the workers output - 2 (never below 1, never
// above the output thread, and never above what RLIMIT_RTPRIO grants without CAP_SYS_NICE).
RealtimePlan plan_realtime_threads(std::optional<int> output_priority,
                                   const RealtimeAllowance& allowance);

// Thread: control. May block briefly (starts and joins one thread for the trial). Reads
// RLIMIT_RTPRIO, RLIMIT_NICE and the effective capabilities, and tries SCHED_FIFO at
// `trial_priority` on a throwaway thread (skipped when the trial priority is 0).
RealtimeAllowance query_realtime_allowance(int trial_priority);

// Thread: control. May block briefly. query_realtime_allowance (trying the waker's priority)
// and plan_realtime_threads in one.
RealtimePlan plan_realtime_for_output(std::optional<int> output_priority);

// What a thread got, as read back from the kernel after asking.
struct AppliedScheduling {
  int policy = 0;    // SCHED_OTHER, SCHED_FIFO, SCHED_RR...
  int priority = 0;  // sched_priority
  int nice = 0;
  int error = 0;  // errno of the refused request, 0 when granted
};

// Thread: the thread to schedule, before its real-time loop (not RT-safe: syscalls). Asks for
// `wanted`; refused SCHED_FIFO falls back to SCHED_OTHER at `fallback_nice`. Returns what the
// thread runs with now.
AppliedScheduling apply_thread_scheduling(const ThreadScheduling& wanted, int fallback_nice);

// Thread: any. Pure. "SCHED_FIFO 68", "SCHED_OTHER nice -10", "SCHED_OTHER nice 0 (SCHED_FIFO
// refused: Operation not permitted)".
std::string describe_applied_scheduling(const AppliedScheduling& applied);

// Thread: any. Pure. "SCHED_FIFO" or "SCHED_OTHER" and the like.
const char* scheduling_policy_name(int policy);

// Thread: any. Pure. The share of each period the kernel leaves to real-time threads
// (sched_rt_runtime_us / sched_rt_period_us, 0.95 by default); 1 when throttling is off
// (runtime -1) or the files cannot be read. `runtime_us`/`period_us` as read from /proc.
double realtime_throttle_share(long long runtime_us, long long period_us);

// Thread: control (reads /proc). realtime_throttle_share of this machine.
double read_realtime_throttle_share();

// Thread: any. Pure. Whether a SCHED_FIFO thread rendering `load` of a CPU (render time over wall
// time across the last window) is near the kernel's throttling `share`: at 90 % of it the
// longest blocks already come close, and at the share the kernel takes the CPU away for the rest
// of its period (issue 12 measured 10-period stalls). Never true for non-real-time threads.
bool near_realtime_throttling(bool realtime, double load, double share);

// Thread: any. Whether `capability` (CAP_SYS_NICE, CAP_IPC_LOCK...) is in this thread's effective
// set. One capget syscall.
bool has_effective_capability(int capability);

// Thread: the thread to prepare, before its real-time loop. Touches `bytes` of its own stack
// so that the pages exist (and, under mlockall, are locked) before the first period.
void prefault_stack(std::size_t bytes = 256 * 1024) noexcept;

}  // namespace synthfarm
