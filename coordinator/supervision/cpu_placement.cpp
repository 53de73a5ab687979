#include "coordinator/supervision/cpu_placement.h"

#include <dirent.h>
#include <sys/types.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace synthfarm {
namespace {

cpu_set_t set_of(const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (const int cpu : cpus) CPU_SET(cpu, &set);
  return set;
}

std::string list_text(const std::vector<int>& cpus) {
  std::string text;
  for (const int cpu : cpus) {
    if (!text.empty()) text += ',';
    text += std::to_string(cpu);
  }
  return text;
}

}  // namespace

std::optional<int> worker_cpu(const std::vector<int>& cpus, std::uint32_t index) noexcept {
  if (cpus.empty()) return std::nullopt;
  return cpus[index % cpus.size()];
}

bool pin_this_process(const std::vector<int>& cpus, std::string& error) {
  if (cpus.empty()) return true;
  const cpu_set_t set = set_of(cpus);
  DIR* tasks = opendir("/proc/self/task");
  if (!tasks) {
    error = "--cpus " + list_text(cpus) + ": cannot list this process's threads in " +
            "/proc/self/task: " + std::strerror(errno);
    return false;
  }
  bool pinned = true;
  while (const dirent* entry = readdir(tasks)) {
    if (entry->d_name[0] == '.') continue;
    const auto thread = static_cast<pid_t>(std::strtol(entry->d_name, nullptr, 10));
    // A thread that ended since the listing (ESRCH) needs no placement.
    if (sched_setaffinity(thread, sizeof set, &set) != 0 && errno != ESRCH) {
      error = "--cpus " + list_text(cpus) + ": cannot move thread " + entry->d_name +
              " there: " + std::strerror(errno);
      pinned = false;
      break;
    }
  }
  closedir(tasks);
  return pinned;
}

ScopedThreadCpu::ScopedThreadCpu(std::optional<int> cpu) noexcept {
  if (!cpu) return;
  if (sched_getaffinity(0, sizeof saved_, &saved_) != 0) {
    error_ = errno;
    return;
  }
  cpu_set_t only;
  CPU_ZERO(&only);
  CPU_SET(*cpu, &only);
  if (sched_setaffinity(0, sizeof only, &only) != 0) {
    error_ = errno;
    return;
  }
  restore_ = true;
}

ScopedThreadCpu::~ScopedThreadCpu() {
  if (restore_) sched_setaffinity(0, sizeof saved_, &saved_);
}

}  // namespace synthfarm
