#include "shared/realtime_setup.h"

#include <linux/capability.h>

#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstring>

#include "shared/realtime_policy.h"

namespace synthfarm {
namespace {

constexpr const char* kLimitsAdvice =
    "to allow it, add your user to the 'audio' group and put '@audio - rtprio 95' and "
    "'@audio - memlock unlimited' in /etc/security/limits.d/audio.conf, then log in again";

std::string megabytes(double bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MB", bytes / 1e6);
  return text;
}

std::string memlock_limit_text() {
  rlimit limit{};
  if (getrlimit(RLIMIT_MEMLOCK, &limit) != 0) return "unknown";
  if (limit.rlim_cur == RLIM_INFINITY) return "unlimited";
  return megabytes(static_cast<double>(limit.rlim_cur));
}

}  // namespace

std::string describe_thread_scheduling(pthread_t thread) {
  int policy = 0;
  sched_param parameters{};
  const int error = pthread_getschedparam(thread, &policy, &parameters);
  if (error != 0) return std::string("unknown (") + std::strerror(error) + ")";
  if (policy == SCHED_FIFO || policy == SCHED_RR) {
    return std::string(policy == SCHED_FIFO ? "SCHED_FIFO" : "SCHED_RR") + " priority " +
           std::to_string(parameters.sched_priority) + " (real-time)";
  }
  const char* name = policy == SCHED_OTHER   ? "SCHED_OTHER"
                     : policy == SCHED_BATCH ? "SCHED_BATCH"
                     : policy == SCHED_IDLE  ? "SCHED_IDLE"
                                             : "an unknown policy";
  return std::string(name) +
         " (not real-time: other programs can delay the audio and cause underflows; " +
         kLimitsAdvice + "; with JACK, also start jackd with -R)";
}

std::string describe_worker_memory(unsigned workers, unsigned failures, int first_error) {
  if (failures == 0) {
    return "workers: memory locked in all " + std::to_string(workers) + " (mlockall)";
  }
  return "workers: memory not locked in " + std::to_string(failures) + " of " +
         std::to_string(workers) + " (" + std::strerror(first_error) + ", memlock limit " +
         memlock_limit_text() + "); a page fault can make a worker late; " + kLimitsAdvice;
}

int lock_process_memory(bool* future) noexcept {
  constexpr rlim_t kLargeEnough = rlim_t{1} << 30;
  rlimit limit{};
  const bool unbounded = has_effective_capability(CAP_IPC_LOCK) ||
                         (getrlimit(RLIMIT_MEMLOCK, &limit) == 0 &&
                          (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= kLargeEnough));
  if (future != nullptr) *future = unbounded;
  return mlockall(unbounded ? MCL_CURRENT | MCL_FUTURE : MCL_CURRENT) == 0 ? 0 : errno;
}

std::string lock_memory(const void* essential, std::size_t essential_bytes) {
  bool future = false;
  const int all_error = lock_process_memory(&future);
  if (all_error == 0) {
    return future ? "memory: locked before the output started (mlockall, current and future "
                    "pages): nothing the audio thread touches, its stack included, can be paged "
                    "out"
                  : "memory: locked before the output started (mlockall, current pages; not "
                    "future ones: the memlock limit is finite)";
  }
  if (essential != nullptr && mlock(essential, essential_bytes) == 0) {
    return "memory: only the shared audio segment (" +
           megabytes(static_cast<double>(essential_bytes)) +
           ") is locked; locking all of it failed (" + std::strerror(all_error) +
           ", memlock limit " + memlock_limit_text() + "); " + kLimitsAdvice;
  }
  return std::string("memory: not locked (") + std::strerror(errno) + ", memlock limit " +
         memlock_limit_text() + "); page faults may cause underflows; " + kLimitsAdvice;
}

}  // namespace synthfarm
