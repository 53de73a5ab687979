#include "coordinator/mix/mixer.h"

#include <algorithm>
#include <cstring>

#include "shared/realtime_counters.h"
#include "shared/shared_futex.h"

namespace synthfarm {

Mixer::Mixer(const Segment& segment, bool limit_output)
    : segment_(segment),
      channels_(segment.header().channels),
      workers_(segment.header().worker_count),
      published_phase_(segment.header().worker_count),
      master_(segment.header().sample_rate_hz, limit_output) {
  // Workers start with the master fade-in only, so a render matches pyo's server bit for bit;
  // the per-worker fade is for `play` after a `stop`.
  for (WorkerMix& worker : workers_) worker.fade_in_position = master_.fade_frames();
  rings_.reserve(segment.header().worker_count);
  for (std::uint32_t w = 0; w < segment.header().worker_count; ++w) {
    rings_.push_back(segment.ring(w));
  }
}

void Mixer::count_device_underflow() noexcept {
  add_relaxed(stats_.device_underflows, 1);
}

std::optional<std::uint32_t> Mixer::first_short_worker(std::uint32_t frames) const noexcept {
  for (std::uint32_t w = 0; w < rings_.size(); ++w) {
    const WorkerSlot& slot = segment_.slot(w);
    if (slot.exited.load(std::memory_order_acquire)) continue;
    if (slot.requested_state.load(std::memory_order_acquire) ==
            static_cast<std::uint32_t>(RequestedState::kStop) &&
        workers_[w].phase == Phase::kStopped) {
      continue;
    }
    if (rings_[w].available_frames() < frames + workers_[w].owed_frames) return w;
  }
  return std::nullopt;
}

std::optional<pthread_t> Mixer::output_thread() const noexcept {
  // Acquire pairs with remember_output_thread's release: the id is stored before the flag.
  if (!output_thread_published_.load(std::memory_order_acquire)) return std::nullopt;
  return output_thread_.load(std::memory_order_relaxed);  // ordered by the flag's acquire
}

AppliedScheduling Mixer::output_scheduling() const noexcept {
  if (output_scheduling_.policy >= 0) return output_scheduling_;
  const std::optional<pthread_t> thread = output_thread();
  if (!thread) return output_scheduling_;
  sched_param parameters{};
  int policy = 0;
  if (pthread_getschedparam(*thread, &policy, &parameters) == 0) {
    output_scheduling_ = {policy, parameters.sched_priority, 0, 0};
  }
  return output_scheduling_;
}

void Mixer::remember_output_thread() noexcept {
  // Relaxed, then release on the flag: pairs with output_thread()'s acquire of the flag.
  output_thread_.store(pthread_self(), std::memory_order_relaxed);
  output_thread_published_.store(true, std::memory_order_release);
  output_thread_known_ = true;
}

void Mixer::mix(float* out, std::uint32_t frames) noexcept {
  const std::uint64_t started_ns = monotonic_ns();
  if (!output_thread_known_) remember_output_thread();
  std::memset(out, 0, std::size_t{frames} * channels_ * sizeof(float));
  // Workers are summed in index order, each added to the running sum: with one worker the sum
  // is that worker's own float32 sum, bit for bit.
  for (std::uint32_t w = 0; w < rings_.size(); ++w) mix_worker(w, out, frames);
  // The rings have room again: let the workers know as early as possible in the call.
  if (waker_) waker_->notify();
  master_.process(out, frames, channels_);
  if (tap_) tap_->on_mixed(out, frames);

  add_relaxed(stats_.calls, 1);
  add_relaxed(stats_.frames, frames);
  const std::uint64_t elapsed_ns = monotonic_ns() - started_ns;
  stats_.callback_ns.record(elapsed_ns);
}

void Mixer::mix_worker(std::uint32_t index, float* out, std::uint32_t frames) noexcept {
  WorkerSlot& slot = segment_.slot(index);
  WorkerMix& worker = workers_[index];
  SpscRing& ring = rings_[index];
  if (slot.exited.load(std::memory_order_acquire)) return;  // a dead worker is silent
  // Acquire pairs with the control thread's release of the request.
  const bool stop_requested = slot.requested_state.load(std::memory_order_acquire) ==
                              static_cast<std::uint32_t>(RequestedState::kStop);

  switch (worker.phase) {
    case Phase::kStopped:
      if (stop_requested) return;
      // Frames left from before the stop are stale: drop them, then let the worker render.
      ring.skip(ring.available_frames());
      worker.owed_frames = 0;
      worker.fade_in_position = 0;
      worker.phase = Phase::kResuming;
      publish_timeline(slot, worker);
      // Release pairs with the worker's acquire: it sees the emptied ring before rendering.
      slot.granted_state.store(static_cast<std::uint32_t>(GrantedState::kRender),
                               std::memory_order_release);
      wake_worker(slot);
      break;
    case Phase::kResuming:
    case Phase::kPlaying:
      if (stop_requested) {
        // Frames the worker still owes are behind the timeline: drop them first, so the fade
        // plays what is on time and never stale audio. Then fade out over this call with what
        // the ring holds, and stop the worker.
        drop_owed_frames(slot, worker, ring, ring.available_frames());
        const auto available =
            static_cast<std::uint32_t>(std::min<std::uint64_t>(ring.available_frames(), frames));
        if (worker.phase == Phase::kPlaying && available > 0) {
          add_frames(index, out, available, true);
        }
        worker.phase = Phase::kStopped;
        slot.granted_state.store(static_cast<std::uint32_t>(GrantedState::kStopped),
                                 std::memory_order_release);
        wake_worker(slot);
        published_phase_[index].store(static_cast<std::uint32_t>(Phase::kStopped),
                                      std::memory_order_relaxed);
        return;
      }
      break;
  }

  std::uint64_t available = ring.available_frames();
  if (worker.phase == Phase::kResuming) {
    if (available == 0) {
      published_phase_[index].store(static_cast<std::uint32_t>(worker.phase),
                                    std::memory_order_relaxed);
      return;  // not yet rendering again: not an underrun
    }
    worker.phase = Phase::kPlaying;
  }
  published_phase_[index].store(static_cast<std::uint32_t>(worker.phase),
                                std::memory_order_relaxed);

  available -= drop_owed_frames(slot, worker, ring, ring.available_frames());
  const auto taken = static_cast<std::uint32_t>(std::min<std::uint64_t>(available, frames));
  if (taken > 0) add_frames(index, out, taken, false);
  if (taken < frames) {
    worker.owed_frames += frames - taken;
    add_relaxed(slot.underrun_frames, frames - taken);
    add_relaxed(slot.late_blocks, 1);
  }
  publish_timeline(slot, worker);
  if (!waker_) notify_sleeper(slot.space_ready);  // else the waker does it, after this call
}

void Mixer::wake_worker(WorkerSlot& slot) noexcept {
  // Live: the waker makes the syscall, after this call (its notify() comes at the end of mix).
  // Offline, the file thread is not real-time and wakes the worker itself.
  if (waker_) {
    waker_->request_wake_all();
  } else {
    wake_always(slot.space_ready);
  }
}

std::uint64_t Mixer::drop_owed_frames(WorkerSlot& slot, WorkerMix& worker, SpscRing& ring,
                                      std::uint64_t available) noexcept {
  const std::uint64_t dropped = std::min(worker.owed_frames, available);
  if (dropped == 0) return 0;
  ring.skip(dropped);
  worker.owed_frames -= dropped;
  add_relaxed(slot.discarded_frames, dropped);
  return dropped;
}

void Mixer::publish_timeline(WorkerSlot& slot, const WorkerMix& worker) noexcept {
  // Release pairs with the worker's acquire: the read position it sees is at least this old.
  slot.timeline_pos.store(slot.read_pos.load(std::memory_order_relaxed) + worker.owed_frames,
                          std::memory_order_release);
}

void Mixer::add_frames(std::uint32_t index, float* out, std::uint32_t frames,
                       bool fade_out) noexcept {
  WorkerMix& worker = workers_[index];
  const std::uint32_t fade_frames = std::max<std::uint32_t>(master_.fade_frames(), 1);
  const std::uint32_t channels = channels_;
  rings_[index].consume(
      frames, [&](const float* piece, std::uint32_t piece_frames, std::uint32_t offset) {
        float* target = out + std::size_t{offset} * channels;
        const std::size_t samples = std::size_t{piece_frames} * channels;
        if (!fade_out && worker.fade_in_position >= fade_frames) {
          for (std::size_t i = 0; i < samples; ++i) target[i] = target[i] + piece[i];
          return;
        }
        for (std::uint32_t n = 0; n < piece_frames; ++n) {
          float gain;
          if (fade_out) {
            gain = 1.0f - static_cast<float>(offset + n + 1) / static_cast<float>(frames);
          } else if (worker.fade_in_position < fade_frames) {
            gain = static_cast<float>(++worker.fade_in_position) / static_cast<float>(fade_frames);
          } else {
            gain = 1.0f;
          }
          for (std::uint32_t c = 0; c < channels; ++c) {
            const std::size_t i = std::size_t{n} * channels + c;
            target[i] = target[i] + piece[i] * gain;
          }
        }
      });
}

}  // namespace synthfarm
