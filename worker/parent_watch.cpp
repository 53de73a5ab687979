#include "worker/parent_watch.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>

namespace synthfarm {

bool arm_parent_death_signal(pid_t coordinator_pid) noexcept {
  // SIGKILL: the worker holds nothing that needs cleaning up (the segment's name is already
  // gone or owned by the coordinator), so dying at once is right.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return false;
  return coordinator_alive(coordinator_pid);
}

bool coordinator_alive(pid_t coordinator_pid) noexcept {
  return getppid() == coordinator_pid;
}

}  // namespace synthfarm
