#include "coordinator/supervision/restart_backoff.h"

#include <algorithm>

namespace synthfarm {

WorkerDeathAction decide_worker_death_action(WorkerFailurePolicy policy, bool offline) noexcept {
  if (offline) return WorkerDeathAction::kReportOnly;
  switch (policy) {
    case WorkerFailurePolicy::kRestart:
      return WorkerDeathAction::kRestart;
    case WorkerFailurePolicy::kAbort:
      return WorkerDeathAction::kAbort;
    case WorkerFailurePolicy::kSilence:
      break;
  }
  return WorkerDeathAction::kSilence;
}

std::chrono::milliseconds RestartBackoff::plan(Clock::time_point now, bool keep_stopped) noexcept {
  if (last_start_ && now - *last_start_ < kForgiveAfter) {
    ++quick_failures_;
  } else {
    quick_failures_ = 0;
  }
  // Capped before the shift: 0.1 s * 2^6 is already past the 5 s maximum.
  const std::chrono::milliseconds backoff =
      quick_failures_ == 0
          ? std::chrono::milliseconds(0)
          : std::min<std::chrono::milliseconds>(
                kFirstBackoff * (1u << std::min(quick_failures_ - 1, 6u)), kMaxBackoff);
  due_ = now + backoff;
  pending_ = true;
  keep_stopped_ = keep_stopped;
  return backoff;
}

bool RestartBackoff::due(Clock::time_point now, bool mixer_stopped_slot) const noexcept {
  return pending_ && now >= due_ && mixer_stopped_slot;
}

void RestartBackoff::started(Clock::time_point now) noexcept {
  pending_ = false;
  last_start_ = now;
}

}  // namespace synthfarm
