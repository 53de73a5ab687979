// The decisions of --on-worker-failure, driven by a clock of the test's own: no process is
// started and nothing sleeps. Times are exact time points, so every expectation is exact.
#include "coordinator/supervision/restart_backoff.h"

#include <gtest/gtest.h>

#include <vector>

namespace synthfarm {
namespace {

using namespace std::chrono_literals;
using Clock = RestartBackoff::Clock;

// A fake clock: an arbitrary, fixed start far from the epoch.
const Clock::time_point kStart = Clock::time_point(1000h);

// Dies at `died`, is replaced as soon as it is due (the mixer has stopped the slot), and
// returns the announced back-off.
std::chrono::milliseconds die_and_restart(RestartBackoff& restart, Clock::time_point died,
                                          Clock::time_point& started) {
  const auto backoff = restart.plan(died, false);
  started = died + backoff;
  EXPECT_TRUE(restart.due(started, true));
  restart.started(started);
  return backoff;
}

TEST(RestartBackoff, AWorkerStartedWithTheRunIsReplacedAtOnceTheFirstTime) {
  RestartBackoff restart;
  EXPECT_EQ(restart.plan(kStart, false), 0ms);
  EXPECT_TRUE(restart.pending());
  EXPECT_TRUE(restart.due(kStart, true));
}

TEST(RestartBackoff, AReplacementThatKeepsDyingWaitsATenthOfASecondDoublingUpToFiveSeconds) {
  RestartBackoff restart;
  Clock::time_point started = kStart;
  std::vector<std::chrono::milliseconds> backoffs;
  // The first death (of the worker the run started), then eight deaths 1 s after each start.
  backoffs.push_back(die_and_restart(restart, kStart, started));
  for (int i = 0; i < 8; ++i) backoffs.push_back(die_and_restart(restart, started + 1s, started));
  const std::vector<std::chrono::milliseconds> expected{0ms,    100ms,  200ms,  400ms, 800ms,
                                                        1600ms, 3200ms, 5000ms, 5000ms};
  EXPECT_EQ(backoffs, expected);
}

TEST(RestartBackoff, TenSecondsOfLifeForgiveEveryEarlierDeath) {
  RestartBackoff restart;
  Clock::time_point started = kStart;
  die_and_restart(restart, kStart, started);
  die_and_restart(restart, started + 1s, started);
  ASSERT_EQ(die_and_restart(restart, started + 1s, started), 200ms);
  EXPECT_EQ(die_and_restart(restart, started + 10s, started), 0ms);
  EXPECT_EQ(die_and_restart(restart, started + 1s, started), 100ms) << "counting starts over";
}

TEST(RestartBackoff, ADeathJustUnderTenSecondsAfterAStartStillCounts) {
  RestartBackoff restart;
  Clock::time_point started = kStart;
  die_and_restart(restart, kStart, started);
  EXPECT_EQ(die_and_restart(restart, started + 10s - 1ns, started), 100ms);
}

TEST(RestartBackoff, NothingStartsBeforeTheBackOffHasPassed) {
  RestartBackoff restart;
  Clock::time_point started = kStart;
  die_and_restart(restart, kStart, started);
  const Clock::time_point died = started + 1s;
  ASSERT_EQ(restart.plan(died, false), 100ms);
  EXPECT_FALSE(restart.due(died, true));
  EXPECT_FALSE(restart.due(died + 100ms - 1ns, true));
  EXPECT_TRUE(restart.due(died + 100ms, true));
}

TEST(RestartBackoff, NothingStartsWhileTheMixerStillPlaysTheDeadWorkersSlot) {
  RestartBackoff restart;
  restart.plan(kStart, false);
  EXPECT_FALSE(restart.due(kStart + 1h, false)) << "the old ring is still being read";
  EXPECT_TRUE(restart.due(kStart + 1h, true));
}

TEST(RestartBackoff, NothingIsDueWhenNoneIsPlannedOrOnceItStarted) {
  RestartBackoff restart;
  EXPECT_FALSE(restart.pending());
  EXPECT_FALSE(restart.due(kStart, true));
  restart.plan(kStart, false);
  restart.started(kStart);
  EXPECT_FALSE(restart.pending());
  EXPECT_FALSE(restart.due(kStart + 1h, true));
}

TEST(RestartBackoff, TheReplacementOfAWorkerTheUserStoppedStaysStopped) {
  RestartBackoff restart;
  restart.plan(kStart, /*keep_stopped=*/true);
  EXPECT_TRUE(restart.keep_stopped());
  restart.started(kStart);
  restart.plan(kStart + 20s, /*keep_stopped=*/false);
  EXPECT_FALSE(restart.keep_stopped()) << "each death looks at the user's request anew";
}

TEST(WorkerDeathAction, FollowsTheFailurePolicyOfALiveRun) {
  EXPECT_EQ(decide_worker_death_action(WorkerFailurePolicy::kSilence, false),
            WorkerDeathAction::kSilence);
  EXPECT_EQ(decide_worker_death_action(WorkerFailurePolicy::kAbort, false),
            WorkerDeathAction::kAbort);
  EXPECT_EQ(decide_worker_death_action(WorkerFailurePolicy::kRestart, false),
            WorkerDeathAction::kRestart);
}

TEST(WorkerDeathAction, IsOnlyReportedOfflineWhateverThePolicy) {
  for (const auto policy : {WorkerFailurePolicy::kSilence, WorkerFailurePolicy::kAbort,
                            WorkerFailurePolicy::kRestart}) {
    EXPECT_EQ(decide_worker_death_action(policy, true), WorkerDeathAction::kReportOnly);
  }
}

}  // namespace
}  // namespace synthfarm
