// The process tests' judge of timing facts (tests/support/machine_stall.h) is an oracle: a judge
// that excused too much would let a timing defect pass. Its rule, checked with measurements
// given by hand: a miss is excused only when the wait covers it, a miss it does not cover
// fails at once, three excused attempts fail, and an attempt that holds ends the retries.
// Beside the process tests because that is where it is used; it runs no executable.
#include "tests/support/machine_stall.h"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace synthfarm::testing {
namespace {

using namespace std::chrono_literals;

// A measurement given by hand, in place of the kernel's.
struct GivenWait {
  static constexpr const char* kWhat = "the given threads waited";
  std::chrono::nanoseconds waited;
  std::chrono::nanoseconds since_start() const { return waited; }
};

TEST(MachineStall, AMissTheWaitCoversIsExcusedAndSaysWhy) {
  MachineStall stall;
  EXPECT_TRUE(excused_by(GivenWait{6ms}, 5ms, "worker 0 had 256 underrun frames", stall));
  EXPECT_TRUE(stall.excused);
  EXPECT_EQ(stall.why,
            "worker 0 had 256 underrun frames (missed by 5.0 ms while the given threads waited "
            "6.0 ms for a CPU)");
}

TEST(MachineStall, AMissTheWaitDoesNotCoverIsNotExcused) {
  MachineStall stall;
  EXPECT_FALSE(excused_by(GivenWait{4ms}, 5ms, "a fact", stall));
  EXPECT_FALSE(stall.excused);
  EXPECT_TRUE(stall.why.empty());
}

TEST(MachineStall, NoWaitExcusesNothingEvenAMissOfZero) {
  MachineStall stall;
  EXPECT_FALSE(excused_by(GivenWait{0ns}, 0ns, "a fact", stall));
}

TEST(MachineStall, ATimeOverItsLimitFailsUnlessTheWaitCoversTheExcess) {
  MachineStall covered;
  expect_within(150ms, 100ms, GivenWait{50ms}, "naming the dead worker", covered);
  EXPECT_TRUE(covered.excused);
  MachineStall not_covered;
  EXPECT_NONFATAL_FAILURE(
      expect_within(150ms, 100ms, GivenWait{49ms}, "naming the dead worker", not_covered),
      "naming the dead worker took 150.0 ms");
  EXPECT_FALSE(not_covered.excused);
  MachineStall within;
  expect_within(99ms, 100ms, GivenWait{0ns}, "naming the dead worker", within);
  EXPECT_FALSE(within.excused);
}

TEST(MachineStall, AnAttemptThatHeldEndsTheRetries) {
  int attempts = 0;
  retry_while_machine_stalled(3, [&](MachineStall& stall) {
    ++attempts;
    expect_within(attempts == 1 ? 150ms : 50ms, 100ms, GivenWait{60ms}, "a time", stall);
  });
  EXPECT_EQ(attempts, 2);
}

TEST(MachineStall, AFailureEndsTheRetriesAtOnce) {
  int attempts = 0;
  EXPECT_NONFATAL_FAILURE(retry_while_machine_stalled(3,
                                                      [&](MachineStall& stall) {
                                                        ++attempts;
                                                        expect_within(150ms, 100ms, GivenWait{10ms},
                                                                      "a time", stall);
                                                      }),
                          "a time took 150.0 ms");
  EXPECT_EQ(attempts, 1);
}

TEST(MachineStall, ExcusedEveryTimeFails) {
  int attempts = 0;
  EXPECT_NONFATAL_FAILURE(retry_while_machine_stalled(3,
                                                      [&](MachineStall& stall) {
                                                        ++attempts;
                                                        stall.excused = true;
                                                        stall.why = "measured";
                                                      }),
                          "too busy to judge");
  EXPECT_EQ(attempts, 3);
}

// The kernel's own measurements are read: this process has threads with a run-queue wait, and
// the pressure file, where the kernel has one, parses.
TEST(MachineStall, ReadsTheKernelsMeasurements) {
  EXPECT_FALSE(run_queue_wait_by_thread(getpid()).empty());
  const RunQueueWait wait({getpid()});
  const CpuPressure pressure;
  std::this_thread::sleep_for(10ms);
  EXPECT_GE(wait.since_start().count(), 0);
  EXPECT_GE(pressure.since_start().count(), 0);
  EXPECT_TRUE(run_queue_wait_by_thread(-1).empty()) << "a process that does not exist";
}

}  // namespace
}  // namespace synthfarm::testing
