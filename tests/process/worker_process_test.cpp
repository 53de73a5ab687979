// A real synthfarm-worker process follows run-time changes (FIFO `set` and `reseed`, made
// through coordinator/worker_commands.h) at block boundaries, exactly as an in-process
// OscillatorBank given the same changes before the same blocks, and records every block's
// render time in its slot's histogram.
//
// The test plays the coordinator: it creates the segment, spawns the worker as the coordinator
// does, and consumes the ring block by block. The fill target is one block, so the worker
// renders block b + 1 only after the test has consumed block b and advanced the timeline; a
// change made before that advance is therefore taken exactly before block b + 1. Tolerance 0:
// same kernel, same SIMD target, same operations.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/plan/frequency_plan.h"
#include "coordinator/supervision/worker_commands.h"
#include "coordinator/supervision/worker_launcher.h"
#include "shared/duration_histogram.h"
#include "shared/segment.h"
#include "shared/shared_futex.h"
#include "shared/simd_target.h"
#include "tests/support/child_process.h"
#include "worker/oscillator_bank.h"

namespace synthfarm {
namespace {

using namespace std::chrono_literals;

constexpr std::uint32_t kChannels = 2;
constexpr std::uint32_t kBlockFrames = 64;
constexpr std::uint32_t kSampleRateHz = 48000;
constexpr std::uint32_t kOscillators = 24;
constexpr double kFeedback = 0.1;
constexpr double kMul = 0.05;
// A deadlock guard, not a speed threshold: a block takes microseconds.
constexpr auto kStallLimit = 10s;

// One worker process on a segment this test owns; shut down and reaped on every path.
class WorkerUnderTest {
 public:
  WorkerUnderTest(KernelKind kernel, std::span<const double> frequencies_hz) {
    const std::string name = "synthfarm-worker-process-test-" + std::to_string(getpid()) + "-" +
                             std::string(kernel_kind_name(kernel));
    std::string error;
    segment_ = Segment::create(name, 1, kChannels, 1024, frequencies_hz.size(), error);
    if (!segment_) {
      ADD_FAILURE() << error;
      return;
    }
    SegmentHeader& header = segment_->header();
    header.sample_rate_hz = kSampleRateHz;
    header.block_frames = kBlockFrames;
    header.fill_target_frames = kBlockFrames;
    header.coordinator_pid = getpid();
    header.kernel = static_cast<std::uint32_t>(kernel);
    header.simd_target = usable_simd_targets().front().highway_target;
    std::copy(frequencies_hz.begin(), frequencies_hz.end(), segment_->frequencies_hz().begin());
    WorkerSlot& slot = segment_->slot(0);
    slot.first_oscillator = 0;
    slot.oscillator_count = static_cast<std::uint32_t>(frequencies_hz.size());
    slot.feedback.store(static_cast<float>(kFeedback));
    slot.mul.store(static_cast<float>(kMul));

    auto worker = spawn_worker(testing::built_program("synthfarm-worker"), name,
                               segment_->descriptor(), 0, error);
    if (!worker) {
      ADD_FAILURE() << error;
      Segment::remove_name(name, error);
      return;
    }
    workers_.push_back(*worker);
    // Acquire pairs with the worker's release of `attached`.
    const auto attached = [&] { return slot.attached.load(std::memory_order_acquire) != 0; };
    const auto deadline = std::chrono::steady_clock::now() + kStallLimit;
    while (!attached() && std::chrono::steady_clock::now() < deadline) {
      sleep_until_ready(header.attach_wake, attached, 100ms);
    }
    Segment::remove_name(name, error);
    if (!attached()) ADD_FAILURE() << "the worker did not attach within 10 s";
  }

  ~WorkerUnderTest() {
    if (!segment_) return;
    // Release pairs with the worker's acquire of the flag, checked on every wake.
    segment_->header().shutdown.store(1, std::memory_order_release);
    wake_always(segment_->slot(0).space_ready);
    stop_and_reap_workers(workers_, 2s);
  }

  bool ok() const { return segment_.has_value() && workers_.size() == 1; }
  Segment& segment() { return *segment_; }
  int exit_status() const { return workers_.front().wait_status; }

  // Waits for the worker's next block and consumes it; then calls `before_next` (the changes
  // to take before the following block) and, if `render_next`, lets the worker render that
  // block.
  std::vector<float> next_block(const std::function<void()>& before_next, bool render_next) {
    WorkerSlot& slot = segment_->slot(0);
    SpscRing ring = segment_->ring(0);
    const auto block_ready = [&] { return ring.available_frames() >= kBlockFrames; };
    const auto deadline = std::chrono::steady_clock::now() + kStallLimit;
    while (!block_ready() && std::chrono::steady_clock::now() < deadline) {
      sleep_until_ready(slot.data_ready, block_ready, 100ms);
    }
    std::vector<float> block(std::size_t{kBlockFrames} * kChannels);
    if (!block_ready()) {
      ADD_FAILURE() << "no block from the worker within 10 s";
      return block;
    }
    EXPECT_EQ(ring.available_frames(), kBlockFrames) << "the worker rendered ahead of its turn";
    ring.read(block.data(), kBlockFrames);
    before_next();
    if (!render_next) return block;
    consumed_ += kBlockFrames;
    // Release: pairs with the worker's acquire of timeline_pos; the changes made above are
    // visible to it before it decides the next block is due.
    slot.timeline_pos.store(consumed_, std::memory_order_release);
    notify_sleeper(slot.space_ready);
    return block;
  }

 private:
  std::optional<Segment> segment_;
  std::vector<WorkerProcess> workers_;
  std::uint64_t consumed_ = 0;
};

// A change, made once on the segment (as the coordinator's control thread makes it) and once
// on the reference bank (as the worker must make it), before block `block`.
struct Change {
  std::uint32_t block;
  std::function<void(Segment&)> on_segment;
  std::function<void(OscillatorBank&)> on_bank;
};

class WorkerProcess : public ::testing::TestWithParam<KernelKind> {};

TEST_P(WorkerProcess, TakesSetAndReseedAtBlockBoundariesExactlyAsTheBankDoes) {
  const KernelKind kernel = GetParam();
  const std::vector<double> frequencies_hz = draw_frequencies_hz(5, kOscillators, 400.0, 800.0);
  // What `reseed 0 6` publishes for this one-worker plan.
  const std::vector<double> reseeded_hz = draw_frequencies_hz(6, kOscillators, 400.0, 800.0);
  const std::vector<Change> changes{
      {10, [](Segment& s) { set_worker_parameter(s, 0, WorkerParameter::kFeedback, 0.3f); },
       [](OscillatorBank& b) { b.glide_feedback_to(0.3f); }},
      {20, [](Segment& s) { set_worker_parameter(s, 0, WorkerParameter::kMul, 0.02f); },
       [](OscillatorBank& b) { b.ramp_mul_to(0.02f); }},
      {30, [](Segment& s) { reseed_workers(s, 0, 6, 400.0, 800.0); },
       [&](OscillatorBank& b) { b.set_frequencies(reseeded_hz); }},
      {40,
       [](Segment& s) {
         set_worker_parameter(s, 0, WorkerParameter::kFeedback, 0.05f);
         set_worker_parameter(s, 0, WorkerParameter::kMul, 0.1f);
       },
       [](OscillatorBank& b) {
         b.glide_feedback_to(0.05f);
         b.ramp_mul_to(0.1f);
       }},
      // The same values again change nothing, in the worker as in the bank.
      {45, [](Segment& s) { set_worker_parameter(s, 0, WorkerParameter::kMul, 0.1f); },
       [](OscillatorBank&) {}},
  };
  constexpr std::uint32_t kBlocks = 60;

  WorkerUnderTest worker(kernel, frequencies_hz);
  ASSERT_TRUE(worker.ok());
  const SimdTarget target = usable_simd_targets().front();
  OscillatorBank expected_bank(frequencies_hz, kSampleRateHz, static_cast<float>(kFeedback),
                               static_cast<float>(kMul), kChannels, kBlockFrames, kernel, target);
  OscillatorBank unchanged_bank(frequencies_hz, kSampleRateHz, static_cast<float>(kFeedback),
                                static_cast<float>(kMul), kChannels, kBlockFrames, kernel, target);
  std::vector<float> actual;
  std::vector<float> expected;
  std::vector<float> unchanged;
  std::vector<float> block(std::size_t{kBlockFrames} * kChannels);
  for (std::uint32_t b = 0; b < kBlocks; ++b) {
    for (const Change& change : changes) {
      if (change.block == b) change.on_bank(expected_bank);
    }
    expected_bank.render(block.data(), kBlockFrames);
    expected.insert(expected.end(), block.begin(), block.end());
    unchanged_bank.render(block.data(), kBlockFrames);
    unchanged.insert(unchanged.end(), block.begin(), block.end());

    const std::vector<float> rendered = worker.next_block(
        [&] {
          for (const Change& change : changes) {
            if (change.block == b + 1) change.on_segment(worker.segment());
          }
        },
        b + 1 < kBlocks);
    actual.insert(actual.end(), rendered.begin(), rendered.end());
  }

  ASSERT_EQ(actual.size(), expected.size());
  std::size_t differing = 0;
  std::size_t first_difference = 0;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    if (actual[i] != expected[i] && differing++ == 0) first_difference = i;
  }
  EXPECT_EQ(differing, 0u) << "first at block " << first_difference / kChannels / kBlockFrames
                           << ", frame " << first_difference / kChannels % kBlockFrames;
  // The changes must matter, from block 10 on, or the comparison proves little.
  std::size_t first_change = actual.size();
  for (std::size_t i = 0; i < actual.size() && first_change == actual.size(); ++i) {
    if (actual[i] != unchanged[i]) first_change = i;
  }
  EXPECT_EQ(first_change / kChannels / kBlockFrames, 10u);

  // Every block's render time is in the histogram, and agrees with the plain counters. The
  // worker counts a block just after writing it, then wakes data_ready's sleeper.
  WorkerSlot& slot = worker.segment().slot(0);
  const auto all_counted = [&] {
    return slot.render_time.count.load(std::memory_order_acquire) >= kBlocks;
  };
  const auto deadline = std::chrono::steady_clock::now() + kStallLimit;
  while (!all_counted() && std::chrono::steady_clock::now() < deadline) {
    sleep_until_ready(slot.data_ready, all_counted, 100ms);
  }
  const DurationSummary render_time = DurationSummary::read(slot.render_time);
  EXPECT_EQ(render_time.count, kBlocks) << "the worker renders only the block it is let render";
  EXPECT_GT(render_time.min_ns, 0u);
  EXPECT_LE(render_time.min_ns, render_time.max_ns);
  EXPECT_LE(render_time.max_ns, render_time.total_ns);
}

INSTANTIATE_TEST_SUITE_P(BothKernels, WorkerProcess,
                         ::testing::Values(KernelKind::kExact, KernelKind::kFast),
                         [](const auto& param_info) {
                           return std::string(kernel_kind_name(param_info.param));
                         });

}  // namespace
}  // namespace synthfarm
