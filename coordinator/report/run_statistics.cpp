#include "coordinator/report/run_statistics.h"

#include <sched.h>

#include "coordinator/mix/mixer.h"
#include "coordinator/mix/worker_waker.h"
#include "shared/segment.h"

namespace synthfarm {

RunStatistics collect_statistics(const Mixer& mixer, const Segment& segment,
                                 std::span<const WorkerProcessView> workers) {
  const SegmentHeader& header = segment.header();
  const MixerStats& stats = mixer.stats();
  RunStatistics run;
  run.sample_rate_hz = header.sample_rate_hz;
  run.block_frames = header.block_frames;
  // Relaxed throughout: statistics, each counter on its own.
  run.timeline_frames = stats.frames.load(std::memory_order_relaxed);
  run.callbacks = stats.calls.load(std::memory_order_relaxed);
  run.device_underflows = stats.device_underflows.load(std::memory_order_relaxed);
  run.nonfinite_samples = mixer.master().nonfinite_samples();
  run.limited_samples = mixer.master().limited_samples();
  run.gain_db = mixer.master().gain_db();
  run.callback = DurationSummary::read(stats.callback_ns);
  run.workers.resize(workers.size());
  for (std::uint32_t w = 0; w < workers.size(); ++w) {
    const WorkerSlot& slot = segment.slot(w);
    WorkerStatistics& worker = run.workers[w];
    worker.index = w;
    worker.pid = workers[w].pid;
    worker.state = workers[w].state;
    worker.ended = workers[w].ended;
    worker.oscillators = slot.oscillator_count;
    worker.feedback = slot.feedback.load(std::memory_order_relaxed);
    worker.mul = slot.mul.load(std::memory_order_relaxed);
    worker.rendered_frames = slot.write_pos.load(std::memory_order_relaxed);
    worker.underrun_frames = slot.underrun_frames.load(std::memory_order_relaxed);
    worker.late_blocks = slot.late_blocks.load(std::memory_order_relaxed);
    worker.discarded_frames = slot.discarded_frames.load(std::memory_order_relaxed);
    worker.render_time = DurationSummary::read(slot.render_time);
    worker.scheduling = worker_scheduling(segment, w);
  }
  if (const auto waker = mixer.waker_scheduling()) {
    // Live only: there the control loop has read it while the output thread plays. Offline the
    // file thread is not real-time, and once joined it must not be asked. The waker itself may
    // be gone (the final report comes after the teardown): its scheduling is the mixer's copy.
    run.audio_thread = mixer.output_scheduling();
    run.waker = *waker;
  }
  run.realtime_throttle_share = read_realtime_throttle_share();
  return run;
}

bool WorkerStatistics::realtime() const noexcept {
  return scheduling.policy == SCHED_FIFO || scheduling.policy == SCHED_RR;
}

bool RunStatistics::near_realtime_throttling(const WorkerStatistics& worker,
                                             const DurationSummary& render) const noexcept {
  if (render.count == 0) return false;
  // Render time per block over the period: the share of its CPU the worker takes, as the
  // blocks come one per period.
  return synthfarm::near_realtime_throttling(worker.realtime(), render.mean_ns() / period_ns(),
                                             realtime_throttle_share);
}

}  // namespace synthfarm
