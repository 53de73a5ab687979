// coordinator/worker_commands.h: `set` stores into the worker's slot, `reseed` publishes the
// worker's slice of the whole seeded plan (what `--seed` would play), and nothing else moves.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "coordinator/plan/frequency_plan.h"
#include "coordinator/supervision/worker_commands.h"
#include "shared/segment.h"

namespace synthfarm {
namespace {

// A segment laid out as the coordinator lays it out: `total` oscillators dealt to `workers`
// in contiguous groups. Its name is removed at once: nothing is left in /dev/shm.
Segment make_segment(std::uint32_t workers, std::uint64_t total) {
  static int serial = 0;
  const std::string name =
      "synthfarm-worker-commands-test-" + std::to_string(getpid()) + "-" + std::to_string(serial++);
  std::string error;
  std::optional<Segment> segment = Segment::create(name, workers, 2, 1024, total, error);
  EXPECT_TRUE(segment) << error;
  EXPECT_TRUE(Segment::remove_name(name, error)) << error;
  const std::vector<WorkerGroup> groups = deal_contiguous_groups(total, workers);
  for (std::uint32_t w = 0; w < workers; ++w) {
    segment->slot(w).first_oscillator = groups[w].first_oscillator;
    segment->slot(w).oscillator_count = groups[w].oscillator_count;
  }
  return std::move(*segment);
}

// What a worker would take now, or nullopt if nothing new was published for it.
std::optional<std::vector<double>> take(const Segment& segment, std::uint32_t worker) {
  std::vector<double> frequencies(segment.slot(worker).oscillator_count);
  std::uint64_t taken = 0;
  if (!segment.take_published_frequencies(worker, taken, frequencies)) return std::nullopt;
  return frequencies;
}

TEST(SetWorkerParameter, StoresFeedbackOrMulInThatWorkersSlotOnly) {
  Segment segment = make_segment(3, 9);
  for (std::uint32_t w = 0; w < 3; ++w) {
    segment.slot(w).feedback.store(0.1f);
    segment.slot(w).mul.store(0.005f);
  }
  set_worker_parameter(segment, 1, WorkerParameter::kFeedback, 0.75f);
  set_worker_parameter(segment, 2, WorkerParameter::kMul, -2.5f);
  EXPECT_EQ(segment.slot(1).feedback.load(), 0.75f);
  EXPECT_EQ(segment.slot(1).mul.load(), 0.005f);
  EXPECT_EQ(segment.slot(2).mul.load(), -2.5f);
  EXPECT_EQ(segment.slot(2).feedback.load(), 0.1f);
  EXPECT_EQ(segment.slot(0).feedback.load(), 0.1f);
  EXPECT_EQ(segment.slot(0).mul.load(), 0.005f);
}

TEST(ReseedWorkers, AllPlaysExactlyWhatTheSameSeedOnTheCommandLinePlays) {
  // 10 oscillators over 3 workers: groups of 4, 3 and 3.
  Segment segment = make_segment(3, 10);
  reseed_workers(segment, std::nullopt, 1234, 400.0, 800.0);
  const std::vector<double> plan = draw_frequencies_hz(1234, 10, 400.0, 800.0);
  std::vector<double> taken_by_all;
  for (std::uint32_t w = 0; w < 3; ++w) {
    const auto frequencies = take(segment, w);
    ASSERT_TRUE(frequencies) << "worker " << w << " got nothing";
    taken_by_all.insert(taken_by_all.end(), frequencies->begin(), frequencies->end());
  }
  EXPECT_EQ(taken_by_all, plan);
}

TEST(ReseedWorkers, OneWorkerGetsItsOwnSliceOfTheSeededPlanAndTheOthersNothing) {
  Segment segment = make_segment(3, 10);
  reseed_workers(segment, 2, 99, 100.0, 200.0);
  const std::vector<double> plan = draw_frequencies_hz(99, 10, 100.0, 200.0);
  const auto frequencies = take(segment, 2);
  ASSERT_TRUE(frequencies);
  EXPECT_EQ(*frequencies, std::vector<double>(plan.begin() + 7, plan.end()));
  EXPECT_FALSE(take(segment, 0));
  EXPECT_FALSE(take(segment, 1));
  // Not the first three of the draw: the slice is the worker's place in the whole plan.
  EXPECT_NE(*frequencies, std::vector<double>(plan.begin(), plan.begin() + 3));
}

TEST(ReseedWorkers, DrawsWithinTheGivenRange) {
  Segment segment = make_segment(2, 1000);
  reseed_workers(segment, std::nullopt, 7, 20.0, 20000.0);
  for (std::uint32_t w = 0; w < 2; ++w) {
    const auto frequencies = take(segment, w);
    ASSERT_TRUE(frequencies);
    for (const double frequency_hz : *frequencies) {
      ASSERT_GE(frequency_hz, 20.0);
      ASSERT_LE(frequency_hz, 20000.0);
    }
  }
}

TEST(PublishWorkerFrequencies, RefusesAListThatIsNotOnePerOscillatorOfTheGroup) {
  Segment segment = make_segment(2, 6);
  EXPECT_THROW(publish_worker_frequencies(segment, 0, std::vector<double>(2, 440.0)),
               std::invalid_argument);
  EXPECT_FALSE(take(segment, 0)) << "nothing was published";
  publish_worker_frequencies(segment, 0, std::vector<double>(3, 440.0));
  EXPECT_EQ(take(segment, 0), std::vector<double>(3, 440.0));
}

}  // namespace
}  // namespace synthfarm
