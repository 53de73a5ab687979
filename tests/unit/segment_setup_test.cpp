// What --buffers and --cpus become at set-up (coordinator/supervision/segment_setup.h,
// cpu_placement.h): the live fill target and a ring that holds it, and each worker's CPU; and
// what prepare_segment tells the workers about an offline render.

#include "coordinator/supervision/segment_setup.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <optional>
#include <string>

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

// Workers skip prefaulting and locking their memory when the header says offline (render_loop).
TEST(PrepareSegment, MarksTheSegmentOfflineForAnOutputFileAndNotForALiveRun) {
  for (const bool offline : {false, true}) {
    const std::string name = "synthfarm-segment-setup-test-" + std::to_string(getpid()) + "-" +
                             std::to_string(offline ? 1 : 0);
    std::string error;
    std::optional<Segment> segment = Segment::create(name, 2, 2, 1024, 4, error);
    ASSERT_TRUE(segment) << error;
    EXPECT_TRUE(Segment::remove_name(name, error)) << error;
    Options options;
    options.workers = 2;
    if (offline) options.output_path = "/tmp/o.wav";
    prepare_segment(*segment, options, OscillatorPlan{{400, 500, 600, 700}, {}}, {48000, 256, 512});
    EXPECT_EQ(segment->header().offline, offline ? 1u : 0u) << "offline " << offline;
  }
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
