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

// Thread: control, once the output has started (so that its thread's stack exists) and
// everything the callback touches is allocated. Locks the whole process's current memory (mlockall
// MCL_CURRENT: MCL_FUTURE would make later allocations fail once the limit is reached); when the
// limit forbids that, locks only `essential` (the shared segment, which the callback and every
// worker touch). Returns the line for the start-up report, with advice when not everything could be
// locked.
std::string lock_memory(const void* essential, std::size_t essential_bytes);

// Thread: control. The start-up line for the workers' own memory locking: `failures` of
// `workers` could not lock (errno `first_error` for the first of them).
std::string describe_worker_memory(unsigned workers, unsigned failures, int first_error);

}  // namespace synthfarm
