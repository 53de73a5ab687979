#pragma once
// How big each worker's ring is and how far ahead a worker renders. The coordinator sizes the
// segment with it; bench/ measures the mixer with the same plan.

#include <cstdint>

namespace synthfarm {

struct RingPlan {
  std::uint32_t ring_frames;         // a power of two
  std::uint32_t fill_target_frames;  // a punctual worker renders this far ahead of the timeline
};

// Real time: 2 device buffers ahead (synthfarm's added latency; --buffers changes it through
// supervision/segment_setup's plan_segment_rings), in a ring far larger than that
// (at least 8192 frames) so that a worker that fell behind can deliver its owed frames, which
// the mixer drops, many blocks per callback. Offline: as far ahead as the ring allows, in a ring
// of at least 32768 frames, so that the file thread moves half of it (64 blocks of 256) per wake
// and each worker is woken about once per half ring rather than once per block.
RingPlan plan_rings(std::uint32_t block_frames, bool offline);

}  // namespace synthfarm
