#pragma once
// The worker's whole life: attach to the segment, render its group block by block into its
// ring, sleep when the ring is full or the mixer has stopped it, leave when told to or when
// the coordinator is gone.

#include "worker/worker_arguments.h"

namespace synthfarm {

// Returns the process exit code: 0 after a requested shutdown, 1 on any failure (with a
// message on stderr). Messages are printed only before rendering starts and after it ends.
int run_worker(const WorkerArguments& arguments);

}  // namespace synthfarm
