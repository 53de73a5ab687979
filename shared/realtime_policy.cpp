#include "shared/realtime_policy.h"

#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

namespace synthfarm {
namespace {

constexpr int kMaxFifoPriority = 99;

long long read_number(const char* path, long long fallback) {
  std::FILE* file = std::fopen(path, "r");
  if (file == nullptr) return fallback;
  long long value = fallback;
  if (std::fscanf(file, "%lld", &value) != 1) value = fallback;
  std::fclose(file);
  return value;
}

}  // namespace

bool has_effective_capability(int capability) {
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  return (data[capability / 32].effective & (1u << (capability % 32))) != 0;
}

RealtimePlan plan_realtime_threads(std::optional<int> output_priority,
                                   const RealtimeAllowance& allowance) {
  RealtimePlan plan;
  plan.fallback_nice = allowance.best_nice;
  if (!output_priority || *output_priority < 1) {
    // Not above the output thread: ours keep its normal priority.
    plan.reason = "the audio thread is not real-time";
    return plan;
  }
  const std::uint64_t ceiling =
      allowance.cap_sys_nice ? kMaxFifoPriority
                             : std::min<std::uint64_t>(allowance.rtprio_limit, kMaxFifoPriority);
  const ThreadScheduling other{false, 0, allowance.best_nice};
  if (ceiling == 0) {
    plan.reason = "RLIMIT_RTPRIO is 0 and there is no CAP_SYS_NICE";
  } else if (allowance.trial_errno != 0) {
    plan.reason =
        std::string("SCHED_FIFO was refused (") + std::strerror(allowance.trial_errno) + ")";
  }
  if (!plan.reason.empty()) {
    plan.waker = other;
    plan.worker = other;
    return plan;
  }
  const auto below = [&](int steps) {
    const int priority = std::max(1, *output_priority - steps);
    return ThreadScheduling{true, static_cast<int>(std::min<std::uint64_t>(priority, ceiling)), 0};
  };
  plan.waker = below(1);
  plan.worker = below(2);
  return plan;
}

RealtimeAllowance query_realtime_allowance(int trial_priority) {
  RealtimeAllowance allowance;
  rlimit limit{};
  if (getrlimit(RLIMIT_RTPRIO, &limit) == 0) {
    allowance.rtprio_limit = limit.rlim_cur == RLIM_INFINITY ? kMaxFifoPriority : limit.rlim_cur;
  }
  allowance.cap_sys_nice = has_effective_capability(CAP_SYS_NICE);
  // RLIMIT_NICE's ceiling is 20 - limit (getrlimit(2)); CAP_SYS_NICE lifts it to -20. We stop at
  // -10: enough to win over normal programs, and leaves room for what the user runs above us.
  constexpr int kBestWanted = -10;
  int best = getpriority(PRIO_PROCESS, 0);
  if (allowance.cap_sys_nice) {
    best = kBestWanted;
  } else if (getrlimit(RLIMIT_NICE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    best = std::min(best, std::max(kBestWanted, 20 - static_cast<int>(limit.rlim_cur)));
  } else if (limit.rlim_cur == RLIM_INFINITY) {
    best = kBestWanted;
  }
  allowance.best_nice = best;
  if (trial_priority > 0) {
    std::thread trial([&] {
      sched_param parameters{};
      parameters.sched_priority = trial_priority;
      allowance.trial_errno = pthread_setschedparam(pthread_self(), SCHED_FIFO, &parameters);
    });
    trial.join();
  }
  return allowance;
}

RealtimePlan plan_realtime_for_output(std::optional<int> output_priority) {
  const int trial = output_priority && *output_priority > 1 ? *output_priority - 1 : 0;
  return plan_realtime_threads(output_priority, query_realtime_allowance(trial));
}

AppliedScheduling apply_thread_scheduling(const ThreadScheduling& wanted, int fallback_nice) {
  AppliedScheduling applied;
  bool realtime_granted = false;
  if (wanted.realtime) {
    sched_param parameters{};
    parameters.sched_priority = wanted.priority;
    applied.error = pthread_setschedparam(pthread_self(), SCHED_FIFO, &parameters);
    realtime_granted = applied.error == 0;
  }
  if (!realtime_granted) {
    // Per thread on Linux: PRIO_PROCESS with a thread id sets that thread's nice value.
    const int nice = wanted.realtime ? fallback_nice : wanted.nice;
    const auto tid = static_cast<id_t>(syscall(SYS_gettid));
    if (nice != getpriority(PRIO_PROCESS, tid) && setpriority(PRIO_PROCESS, tid, nice) != 0 &&
        applied.error == 0) {
      applied.error = errno;
    }
  }
  sched_param parameters{};
  pthread_getschedparam(pthread_self(), &applied.policy, &parameters);
  applied.priority = parameters.sched_priority;
  errno = 0;
  applied.nice = getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)));
  return applied;
}

const char* scheduling_policy_name(int policy) {
  switch (policy) {
    case SCHED_FIFO:
      return "SCHED_FIFO";
    case SCHED_RR:
      return "SCHED_RR";
    case SCHED_OTHER:
      return "SCHED_OTHER";
    case SCHED_BATCH:
      return "SCHED_BATCH";
    case SCHED_IDLE:
      return "SCHED_IDLE";
    default:
      return "unknown policy";
  }
}

std::string describe_applied_scheduling(const AppliedScheduling& applied) {
  // append(), not operator+: GCC 12 warns falsely (-Wrestrict) on " " + std::string.
  std::string text = scheduling_policy_name(applied.policy);
  if (applied.policy == SCHED_FIFO || applied.policy == SCHED_RR) {
    text.append(" ").append(std::to_string(applied.priority));
  } else {
    text.append(" nice ").append(std::to_string(applied.nice));
  }
  if (applied.error != 0)
    text.append(" (refused: ").append(std::strerror(applied.error)).append(")");
  return text;
}

double realtime_throttle_share(long long runtime_us, long long period_us) {
  if (runtime_us < 0 || period_us <= 0 || runtime_us >= period_us) return 1.0;
  return static_cast<double>(runtime_us) / static_cast<double>(period_us);
}

double read_realtime_throttle_share() {
  return realtime_throttle_share(read_number("/proc/sys/kernel/sched_rt_runtime_us", -1),
                                 read_number("/proc/sys/kernel/sched_rt_period_us", 0));
}

bool near_realtime_throttling(bool realtime, double load, double share) {
  return realtime && share < 1.0 && load >= 0.9 * share;
}

void prefault_stack(std::size_t bytes) noexcept {
  // A variable-length region the compiler must keep: one write per page makes each page exist.
  constexpr std::size_t kPage = 4096;
  volatile unsigned char* region = static_cast<volatile unsigned char*>(__builtin_alloca(bytes));
  for (std::size_t offset = 0; offset < bytes; offset += kPage) region[offset] = 0;
}

}  // namespace synthfarm
