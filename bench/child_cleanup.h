#pragma once
// The children synthfarm-bench has running (a probe's synthfarm, the --background-load
// processes): when SIGINT, SIGTERM or SIGHUP ends the bench, its handler kills and reaps them
// before the bench dies of the signal, so that nothing is left running or as a zombie (the
// init of a container or VM may never reap what it inherits). The children also get a death
// signal from the kernel (PR_SET_PDEATHSIG) for the deaths no handler sees (SIGKILL, a crash).
//
// Thread: main (synthfarm-bench's only thread). The handler is async-signal-safe: it reads a
// fixed array and calls kill, waitpid, signal and raise only.

#include <sys/types.h>

namespace synthfarm::bench {

// Installs the handlers (once; later calls do nothing).
void install_child_cleanup();

// Adds or removes a child the handler kills with `signal_number` (SIGKILL for busy processes,
// SIGTERM for synthfarm, which then stops its workers). At most 128 at once; past that a child
// is not tracked and only its death signal protects it.
void track_child(pid_t child, int signal_number);
void untrack_child(pid_t child);

}  // namespace synthfarm::bench
