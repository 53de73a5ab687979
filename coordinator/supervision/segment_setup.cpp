#include "coordinator/supervision/segment_setup.h"

#include <unistd.h>

#include <algorithm>

namespace synthfarm {

RingPlan plan_segment_rings(std::uint32_t block_frames, std::uint32_t buffers, bool offline) {
  RingPlan plan = plan_rings(block_frames, offline);
  if (offline) return plan;
  plan.fill_target_frames = buffers * block_frames;
  while (plan.ring_frames < 2 * plan.fill_target_frames) plan.ring_frames *= 2;
  return plan;
}

std::vector<WorkerGroup> prepare_segment(Segment& segment, const Options& options,
                                         const OscillatorPlan& plan, const SegmentTiming& timing) {
  SegmentHeader& header = segment.header();
  header.sample_rate_hz = timing.sample_rate_hz;
  header.block_frames = timing.block_frames;
  header.fill_target_frames = timing.fill_target_frames;
  header.coordinator_pid = getpid();
  header.kernel = static_cast<std::uint32_t>(options.kernel);
  header.simd_target = options.simd.highway_target;
  header.offline = options.offline() ? 1 : 0;
  std::copy(plan.frequencies_hz.begin(), plan.frequencies_hz.end(),
            segment.frequencies_hz().begin());
  std::vector<WorkerGroup> groups =
      deal_contiguous_groups(plan.frequencies_hz.size(), options.workers);
  for (std::uint32_t w = 0; w < options.workers; ++w) {
    WorkerSlot& slot = segment.slot(w);
    slot.first_oscillator = groups[w].first_oscillator;
    slot.oscillator_count = groups[w].oscillator_count;
    slot.feedback.store(static_cast<float>(options.feedback), std::memory_order_relaxed);
    slot.mul.store(static_cast<float>(options.mul), std::memory_order_relaxed);
  }
  return groups;
}

}  // namespace synthfarm
