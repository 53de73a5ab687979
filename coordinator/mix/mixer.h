#pragma once
// Sums the workers' rings into the output on a common timeline that never waits.
//
// Every call consumes `frames` from each playing worker. A ring that holds fewer gives what it
// has; the rest is silence, counted against that worker and owed: when the late frames arrive
// they are dropped, so the worker rejoins the timeline and late audio is never played.
// Stop and play requests from the control thread are carried out here, at call boundaries,
// with a short fade so that they do not click.

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <vector>

#include "coordinator/mix/master_stage.h"
#include "coordinator/mix/mix_tap.h"
#include "coordinator/mix/worker_waker.h"
#include "shared/duration_histogram.h"
#include "shared/realtime_policy.h"
#include "shared/segment.h"

namespace synthfarm {

// Written by the output thread, read by the control thread (relaxed: statistics).
struct MixerStats {
  std::atomic<std::uint64_t> calls{0};
  std::atomic<std::uint64_t> frames{0};             // the timeline position
  std::atomic<std::uint64_t> device_underflows{0};  // reported by the device or the clock
  // Every mix() call's duration, tap included (the whole callback but the device's own work).
  // Read with DurationSummary::read; subtract an earlier read with since() for an interval.
  DurationHistogram callback_ns;
};

class Mixer {
 public:
  // Allocates everything the output path will touch. `limit_output`: see MasterStage.
  Mixer(const Segment& segment, bool limit_output);

  // Thread: the output (audio callback, null clock or file thread). RT-safe: no allocation,
  // lock, I/O or logging; its only syscall is the futex wake of a worker that sleeps.
  // Writes `frames` interleaved frames of header().channels to `out`.
  void mix(float* out, std::uint32_t frames) noexcept;

  // Thread: control, before the output starts (starting the output thread is what publishes
  // the pointer to it; changing it while the output runs is a data race). `tap` sees every
  // buffer after the master stage, exactly as the device gets it, and must outlive the output.
  // nullptr removes it.
  void set_tap(MixTap* tap) noexcept { tap_ = tap; }

  // Thread: control, before the output starts (as set_tap), and nullptr once the output has
  // stopped, before the waker is destroyed. With a waker, each call notifies it once instead of
  // waking every sleeping worker itself (worker_waker.h says why). Without one (offline, tests)
  // the mixer wakes the workers directly.
  void set_waker(WorkerWaker* waker) noexcept {
    waker_ = waker;
    if (waker != nullptr) waker_scheduling_ = waker->scheduling();
  }
  // Thread: control. The waker set, or nullptr (offline, before set_waker, after teardown).
  const WorkerWaker* waker() const noexcept { return waker_; }
  // Thread: control. What the waker thread was granted, once a waker was set; kept after the
  // waker is gone, for the final status and report.
  std::optional<AppliedScheduling> waker_scheduling() const noexcept { return waker_scheduling_; }

  // Thread: control. The thread that has been calling mix() (the device's callback thread, the
  // null clock or the file thread), once it has called it; for reporting its scheduling policy
  // and priority without any syscall in the callback.
  std::optional<pthread_t> output_thread() const noexcept;
  // Thread: control. The output thread's policy and priority, read (pthread_getschedparam) the
  // first time it is asked once the output has called; policy -1 before. Kept: a thread that has
  // ended can no longer be asked, so ask once while it plays.
  AppliedScheduling output_scheduling() const noexcept;

  // Thread: the output. RT-safe. For the device's own underflow flag and the null clock.
  void count_device_underflow() noexcept;

  // Thread: the offline file thread. The first playing worker whose ring holds fewer than
  // `frames`, if any (a worker that has exited is never waited for).
  std::optional<std::uint32_t> first_short_worker(std::uint32_t frames) const noexcept;

  MasterStage& master() noexcept { return master_; }
  const MasterStage& master() const noexcept { return master_; }
  const MixerStats& stats() const noexcept { return stats_; }

  // Thread: control. What the mixer has made of a worker's requests so far.
  enum class Phase : std::uint32_t { kPlaying, kStopped, kResuming };
  Phase phase(std::uint32_t worker) const noexcept {
    return static_cast<Phase>(published_phase_[worker].load(std::memory_order_relaxed));
  }

 private:
  struct WorkerMix {
    Phase phase = Phase::kPlaying;
    std::uint64_t owed_frames = 0;       // silence played that the worker still has to deliver
    std::uint32_t fade_in_position = 0;  // < fade frames while fading in after `play`
  };

  void mix_worker(std::uint32_t index, float* out, std::uint32_t frames) noexcept;
  // Thread: the output. RT-safe live (a flag for the waker, no syscall); offline a futex wake
  // from the file thread. For a worker whose grant just changed (`play`, `stop`).
  void wake_worker(WorkerSlot& slot) noexcept;
  // Skips the late frames the worker owes, as far as `available` (what the caller has seen in
  // the ring) reaches, and counts them as discarded. Returns how many it skipped.
  static std::uint64_t drop_owed_frames(WorkerSlot& slot, WorkerMix& worker, SpscRing& ring,
                                        std::uint64_t available) noexcept;
  static void publish_timeline(WorkerSlot& slot, const WorkerMix& worker) noexcept;
  void add_frames(std::uint32_t index, float* out, std::uint32_t frames, bool fade_out) noexcept;
  // Thread: the output. RT-safe: pthread_self() reads the thread pointer, no syscall.
  void remember_output_thread() noexcept;

  const Segment& segment_;
  std::uint32_t channels_;
  std::vector<SpscRing> rings_;
  std::vector<WorkerMix> workers_;
  std::vector<std::atomic<std::uint32_t>> published_phase_;
  MasterStage master_;
  MixerStats stats_;
  MixTap* tap_ = nullptr;         // set before the output starts, then only read by it
  WorkerWaker* waker_ = nullptr;  // likewise
  std::optional<AppliedScheduling> waker_scheduling_;  // control thread only
  // Owned by the output thread: whether it has published its identity yet.
  bool output_thread_known_ = false;
  // Written once by the output thread, read by the control thread.
  std::atomic<pthread_t> output_thread_{};
  std::atomic<bool> output_thread_published_{false};
  mutable AppliedScheduling output_scheduling_{-1, 0, 0, 0};  // control thread only
  static_assert(std::atomic<pthread_t>::is_always_lock_free);
};

}  // namespace synthfarm
