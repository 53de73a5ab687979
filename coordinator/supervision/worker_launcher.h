#pragma once
// Starting, watching and stopping worker processes. posix_spawn, not fork: the coordinator
// already has threads (the audio library's) when it spawns.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace synthfarm {

struct WorkerProcess {
  std::uint32_t index = 0;
  pid_t pid = -1;
  int pidfd = -1;  // readable when the process has exited
  bool reaped = false;
  int wait_status = 0;              // as from waitpid, once reaped
  bool died_while_playing = false;  // reaped before shutdown: a crash or a kill, not an exit
};

// Thread: control. synthfarm-worker beside the running executable (/proc/self/exe), as in a
// build tree, else in ../libexec/synthfarm/ from it (an installation).
std::string worker_executable_path();

// Thread: control. Allocates, makes syscalls. The child gets the segment's descriptor as fd 3
// (so it can attach after the name is gone); every other fd above stderr is closed in it.
// `cpu` (--cpus): the one CPU it runs on from its start; nullopt: the coordinator's set.
std::optional<WorkerProcess> spawn_worker(const std::string& executable,
                                          const std::string& segment_name, int segment_descriptor,
                                          std::uint32_t index, std::string& error,
                                          std::optional<int> cpu = std::nullopt);

// Thread: control. Reaps the worker if it has exited; returns true if it did just now.
bool reap_if_exited(WorkerProcess& worker);

// "exited with code 1" or "was killed by signal 9 (Killed)".
std::string describe_wait_status(int wait_status);

// Thread: control. For workers already asked to leave (the shutdown flag): waits up to `grace`
// for them, then sends SIGTERM, waits `grace` again, then SIGKILL, and reaps every one.
// Blocks (in poll, never spinning). Closes the pidfds. When `interrupt_fd` (the signalfd; -1:
// none) becomes readable, the waits end and the rest get SIGKILL at once: returns true then.
bool stop_and_reap_workers(std::vector<WorkerProcess>& workers, std::chrono::milliseconds grace,
                           int interrupt_fd = -1);

// Thread: any. Never blocks: whether `fd` is readable now (false for -1).
bool descriptor_readable(int fd) noexcept;

}  // namespace synthfarm
