// What --buffers and --cpus become at set-up (coordinator/supervision/segment_setup.h,
// cpu_placement.h): the live fill target and a ring that holds it, and each worker's CPU.

#include "coordinator/supervision/segment_setup.h"

#include <gtest/gtest.h>

#include "coordinator/supervision/cpu_placement.h"

namespace synthfarm {
namespace {

TEST(PlanSegmentRings, FillsBuffersTimesTheBlockAheadLive) {
  // The default: 2 buffers of 256 frames, 10.7 ms at 48 kHz, in plan_rings' ring.
  const RingPlan defaults = plan_segment_rings(256, 2, /*offline=*/false);
  EXPECT_EQ(defaults.fill_target_frames, 512u);
  EXPECT_EQ(defaults.ring_frames, plan_rings(256, false).ring_frames);
  for (const std::uint32_t buffers : {1u, 3u, 4u, 16u}) {
    EXPECT_EQ(plan_segment_rings(256, buffers, false).fill_target_frames, buffers * 256);
  }
}

TEST(PlanSegmentRings, GrowsTheRingToHoldTwiceTheFillTarget) {
  for (const std::uint32_t block : {16u, 256u, 1000u, 4096u, 8192u}) {
    for (std::uint32_t buffers = 1; buffers <= 16; ++buffers) {
      const RingPlan plan = plan_segment_rings(block, buffers, false);
      EXPECT_GE(plan.ring_frames, 2 * plan.fill_target_frames) << block << " x " << buffers;
      EXPECT_GE(plan.ring_frames, plan_rings(block, false).ring_frames);
      EXPECT_EQ(plan.ring_frames & (plan.ring_frames - 1), 0u) << "not a power of two";
    }
  }
  EXPECT_EQ(plan_segment_rings(8192, 16, false).ring_frames, 262144u);
}

TEST(PlanSegmentRings, LeavesAnOfflineRenderAsPlanRingsHasIt) {
  const RingPlan offline = plan_segment_rings(256, 7, /*offline=*/true);
  EXPECT_EQ(offline.ring_frames, plan_rings(256, true).ring_frames);
  EXPECT_EQ(offline.fill_target_frames, plan_rings(256, true).fill_target_frames);
}

TEST(WorkerCpu, DealsTheListRoundRobinAndNothingWithoutOne) {
  EXPECT_EQ(worker_cpu({}, 0), std::nullopt);
  const std::vector<int> cpus{3, 1};
  EXPECT_EQ(worker_cpu(cpus, 0), 3);
  EXPECT_EQ(worker_cpu(cpus, 1), 1);
  EXPECT_EQ(worker_cpu(cpus, 2), 3);
  EXPECT_EQ(worker_cpu(cpus, 255), 1);
}

}  // namespace
}  // namespace synthfarm
