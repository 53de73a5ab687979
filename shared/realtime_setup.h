#pragma once
// What the coordinator got from the system for real time, for the start-up report: the audio
// thread's scheduling, and memory locking. Like supernova, it asks, carries on when refused, and
// says what to do about it.

#include <pthread.h>

#include <cstddef>
#include <string>

namespace synthfarm {

// Thread: control. "SCHED_FIFO priority 70 (real-time)", or the policy the thread runs with
// and, when that is not real-time, what to change so that it is.
std::string describe_thread_scheduling(pthread_t thread);

// Thread: any, before the real-time threads run. mlockall(MCL_CURRENT | MCL_FUTURE) when the
// memlock limit cannot be reached (CAP_IPC_LOCK, an unlimited or a limit of at least 1 GB), else
// mlockall(MCL_CURRENT): MCL_FUTURE makes every later allocation, thread stack or mapping fail
// once the locked total reaches a finite limit, and a run that cannot allocate is worse than one
// that may fault. Returns 0, or the errno of the refusal. `future` (optional) is set to whether
// MCL_FUTURE was asked for.
int lock_process_memory(bool* future = nullptr) noexcept;

// Thread: control, before the output starts (everything the callback touches is allocated;
// with MCL_FUTURE the output thread's stack is locked when it is created). Locks the whole
// process's memory (lock_process_memory); when the limit forbids that, locks only `essential`
// (the shared segment, which the callback and every worker touch). Returns the line for the
// start-up report, with advice when not everything could be locked.
std::string lock_memory(const void* essential, std::size_t essential_bytes);

// Thread: control. The start-up line for the workers' own memory locking: `failures` of
// `workers` could not lock (errno `first_error` for the first of them).
std::string describe_worker_memory(unsigned workers, unsigned failures, int first_error);

}  // namespace synthfarm
