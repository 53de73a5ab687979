#pragma once
// What the coordinator writes into a new segment before any worker starts: the output's
// rate and block, how far ahead to render, the kernel, every frequency, and each worker's
// group and parameters. The workers read it all when they attach.

#include <cstdint>
#include <vector>

#include "coordinator/mix/ring_plan.h"
#include "coordinator/plan/cli_options.h"
#include "coordinator/plan/frequency_plan.h"
#include "coordinator/plan/oscillator_plan.h"
#include "shared/segment.h"

namespace synthfarm {

// What the output granted, which the segment passes on to the workers.
struct SegmentTiming {
  std::uint32_t sample_rate_hz = 0;
  std::uint32_t block_frames = 0;
  std::uint32_t fill_target_frames = 0;
};

// Thread: any. plan_rings' rings with a live run's fill target set by --buffers: `buffers`
// device buffers of `block_frames` ahead, and the ring grown (to a power of two) when it would
// not hold twice that, so that a worker that fell behind can still catch up many blocks at
// once. Offline: plan_rings' plan, whatever `buffers` says.
RingPlan plan_segment_rings(std::uint32_t block_frames, std::uint32_t buffers, bool offline);

// Thread: control, before the workers are spawned (nothing else reads the segment yet; the
// relaxed stores are published by the spawn). Allocates the returned groups. Returns each
// worker's oscillators, in slot order.
std::vector<WorkerGroup> prepare_segment(Segment& segment, const Options& options,
                                         const OscillatorPlan& plan, const SegmentTiming& timing);

}  // namespace synthfarm
