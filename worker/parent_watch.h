#pragma once
// A worker must never outlive its coordinator.

#include <sys/types.h>

namespace synthfarm {

// Asks the kernel to kill this process when its parent dies (PR_SET_PDEATHSIG), then checks
// that the parent is still `coordinator_pid`: if the coordinator died before the request took
// effect, the signal will never come. Returns false when the coordinator is already gone.
bool arm_parent_death_signal(pid_t coordinator_pid) noexcept;

// Thread: the worker's render loop, only when its idle timeout expired (nobody woke it for
// 100 ms): getppid() is a syscall, kept off the path of every wake.
bool coordinator_alive(pid_t coordinator_pid) noexcept;

}  // namespace synthfarm
