#pragma once
// The decisions of worker supervision, apart from any process: what a worker's death means
// under --on-worker-failure, and when its replacement may start. Time comes in as arguments,
// so that a test drives the back-off with a clock of its own and never sleeps.

#include <chrono>
#include <optional>

#include "coordinator/plan/cli_options.h"

namespace synthfarm {

// What to do about a worker that died while playing.
enum class WorkerDeathAction {
  kReportOnly,  // offline: the render stops at its next block and says why
  kSilence,     // its oscillators fall silent; the others play on
  kAbort,       // stop everything and exit 1
  kRestart,     // start a new worker for its oscillators
};

// Thread: any. Pure. An offline render never restarts or aborts on its own: a file with a
// worker's part missing is wrong, and the render says so and stops.
WorkerDeathAction decide_worker_death_action(WorkerFailurePolicy policy, bool offline) noexcept;

// One worker slot's replacement under --on-worker-failure restart. A worker that dies again
// soon after its start waits longer each time (0.1 s, doubling up to 5 s), so that a worker
// that crashes at once does not spin; 10 s of life forgives. The workers started with the run
// have no recorded start: their first death is replaced at once.
// Thread: control. Pure: no clock read, no allocation.
class RestartBackoff {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kFirstBackoff{100};
  static constexpr std::chrono::milliseconds kMaxBackoff{5000};
  static constexpr std::chrono::seconds kForgiveAfter{10};

  // The slot's worker died at `now`; `keep_stopped`: the user had stopped it, so its
  // replacement stays stopped too. Plans the replacement; returns how long it waits.
  std::chrono::milliseconds plan(Clock::time_point now, bool keep_stopped) noexcept;

  // Whether the replacement should start at `now`: one is planned, its wait is over, and the
  // mixer has stopped the slot (until it has, the old ring is still being read).
  bool due(Clock::time_point now, bool mixer_stopped_slot) const noexcept;

  // The replacement started at `now`: nothing is pending, and its life counts from here.
  void started(Clock::time_point now) noexcept;

  bool pending() const noexcept { return pending_; }
  bool keep_stopped() const noexcept { return keep_stopped_; }

 private:
  bool pending_ = false;
  bool keep_stopped_ = false;
  unsigned quick_failures_ = 0;  // deaths in a row within kForgiveAfter of a start
  Clock::time_point due_{};
  std::optional<Clock::time_point> last_start_;  // of the last replacement, if any
};

}  // namespace synthfarm
