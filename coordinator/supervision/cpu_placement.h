#pragma once
// --cpus: where the run's threads and processes may run. The coordinator's threads (control,
// audio, waker, file writers) share the whole list; worker w gets cpus[w % size] alone. A
// process inherits the affinity of the thread that spawns it, so a worker is pinned from its
// first instruction, before its render thread exists: no window on another CPU.

#include <sched.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace synthfarm {

// Thread: any. Which CPU worker `index` runs on: nullopt when `cpus` is empty (no pinning).
std::optional<int> worker_cpu(const std::vector<int>& cpus, std::uint32_t index) noexcept;

// Thread: control, at start-up. Makes syscalls, reads /proc/self/task. Restricts every thread
// of this process (those the audio library may have started too) to `cpus`; threads started
// later inherit it. Nothing to do for an empty list. False with `error` naming the CPU list
// and the reason.
bool pin_this_process(const std::vector<int>& cpus, std::string& error);

// Thread: control. While it lives, the calling thread runs on `cpu` alone (nullopt: unchanged),
// so that a process it spawns starts there; the destructor puts the thread's set back.
class ScopedThreadCpu {
 public:
  explicit ScopedThreadCpu(std::optional<int> cpu) noexcept;
  ~ScopedThreadCpu();
  ScopedThreadCpu(const ScopedThreadCpu&) = delete;
  ScopedThreadCpu& operator=(const ScopedThreadCpu&) = delete;

  // 0 when the thread runs on `cpu` (or nothing was asked), else the errno of the failure.
  int error() const noexcept { return error_; }

 private:
  cpu_set_t saved_{};
  bool restore_ = false;
  int error_ = 0;
};

}  // namespace synthfarm
