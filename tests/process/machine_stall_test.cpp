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

// The clock's late wakes excuse late frames only when its own callback never took a period:
// then the machine held the highest-priority thread off its CPU, a period per late wake.
TEST(MachineStall, TheClocksLateWakesCountOnlyWhenItsCallbackNeverOverran) {
  const std::string two_late =
      "final: seconds=2.0 callbacks=375 callback_avg_us=20.6 callback_p99_us=33.8 "
      "callback_max_us=80.2 period_us=5333.3 device_underflows=2 server_xruns=0\n";
  EXPECT_EQ(ClockLateWakes::from_final_line(two_late).since_start(), 10'666'600ns);
  MachineStall stall;
  EXPECT_TRUE(excused_by(ClockLateWakes::from_final_line(two_late), kOnePeriod, "late", stall));
  EXPECT_NE(stall.why.find("the clock"), std::string::npos) << stall.why;

  const std::string overran =
      "final: seconds=2.0 callbacks=375 callback_avg_us=20.6 callback_p99_us=33.8 "
      "callback_max_us=6000.0 period_us=5333.3 device_underflows=2 server_xruns=0\n";
  EXPECT_EQ(ClockLateWakes::from_final_line(overran).since_start(), 0ns);
  const std::string on_time =
      "final: seconds=2.0 callbacks=375 callback_avg_us=20.6 callback_p99_us=33.8 "
      "callback_max_us=80.2 period_us=5333.3 device_underflows=0 server_xruns=0\n";
  MachineStall none;
  EXPECT_FALSE(excused_by(ClockLateWakes::from_final_line(on_time), kOnePeriod, "late", none));
  EXPECT_EQ(ClockLateWakes::from_final_line("no final line").since_start(), 0ns);
}

TEST(MachineStall, AProbesLatenessCountsOnlyBeyondItsOwnRunQueueWait) {
  // Due at 1 ms, ran at 12 ms: 11 ms late. Waiting in the run queue for 4 of them is a busy CPU
  // (the run-queue meters' business); the other 7 the CPU itself was gone.
  EXPECT_EQ(unaccounted_lateness(1ms, 12ms, 4ms), 7ms);
  EXPECT_EQ(unaccounted_lateness(1ms, 12ms, 0ms), 11ms);
  // A wake on time, or a lateness the run queue explains in full, is no stall.
  EXPECT_EQ(unaccounted_lateness(1ms, 1ms, 0ms), 0ms);
  EXPECT_EQ(unaccounted_lateness(1ms, 5ms, 6ms), 0ms);
}

TEST(MachineStall, AHiddenStallExcusesOnlyWhenItCoversTheMiss) {
  MachineStall stall;
  EXPECT_FALSE(excused_by(Frozen<HiddenStalls>{4ms}, kOnePeriod, "late", stall));
  EXPECT_FALSE(stall.excused);
  EXPECT_TRUE(excused_by(Frozen<HiddenStalls>{10ms}, kOnePeriod, "late", stall));
  EXPECT_NE(stall.why.find("a CPU itself stalled"), std::string::npos) << stall.why;
}

}  // namespace
}  // namespace synthfarm::testing
