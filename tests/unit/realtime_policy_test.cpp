// The real-time thread policy (shared/realtime_policy.h): the pure decision from the output
// thread's priority and what the system allows, and applying it to a thread.

#include "shared/realtime_policy.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <cerrno>
#include <string>
#include <thread>

namespace synthfarm {
namespace {

RealtimeAllowance root() {
  RealtimeAllowance allowance;
  allowance.cap_sys_nice = true;
  allowance.best_nice = -10;
  return allowance;
}

RealtimeAllowance unprivileged(std::uint64_t rtprio_limit, int best_nice = 0) {
  RealtimeAllowance allowance;
  allowance.rtprio_limit = rtprio_limit;
  allowance.best_nice = best_nice;
  return allowance;
}

TEST(RealtimePolicy, TheWakerGoesJustBelowTheOutputThreadAndTheWorkersBelowIt) {
  const RealtimePlan plan = plan_realtime_threads(70, root());  // the null clock
  EXPECT_TRUE(plan.waker.realtime);
  EXPECT_EQ(plan.waker.priority, 69);
  EXPECT_TRUE(plan.worker.realtime);
  EXPECT_EQ(plan.worker.priority, 68);
  EXPECT_EQ(plan.reason, "");
}

TEST(RealtimePolicy, UnderJacksDefaultClientPriorityOursStayBelowIt) {
  // jackd -R gives its clients 5 (or what -P says): the old fixed waker priority 60 was above.
  const RealtimePlan plan = plan_realtime_threads(5, unprivileged(95));
  EXPECT_EQ(plan.waker.priority, 4);
  EXPECT_EQ(plan.worker.priority, 3);
}

TEST(RealtimePolicy, NothingIsEverAboveTheOutputThreadEvenAtTheBottom) {
  for (int output = 1; output <= 99; ++output) {
    const RealtimePlan plan = plan_realtime_threads(output, root());
    EXPECT_GE(plan.waker.priority, 1);
    EXPECT_LE(plan.waker.priority, output);
    EXPECT_LE(plan.worker.priority, plan.waker.priority);
    EXPECT_GE(plan.worker.priority, 1);
  }
}

TEST(RealtimePolicy, ARtprioLimitBelowTheOutputCapsOursWithoutCapSysNice) {
  const RealtimePlan plan = plan_realtime_threads(70, unprivileged(50));
  EXPECT_TRUE(plan.waker.realtime);
  EXPECT_EQ(plan.waker.priority, 50);
  EXPECT_EQ(plan.worker.priority, 50);
}

TEST(RealtimePolicy, WithoutRtprioOrCapNoneOfOursIsRealTimeAndTheyTakeTheBestNice) {
  const RealtimePlan plan = plan_realtime_threads(70, unprivileged(0, -5));
  EXPECT_FALSE(plan.waker.realtime);
  EXPECT_FALSE(plan.worker.realtime);
  EXPECT_EQ(plan.waker.nice, -5);
  EXPECT_EQ(plan.worker.nice, -5);
  EXPECT_NE(plan.reason.find("RLIMIT_RTPRIO is 0"), std::string::npos) << plan.reason;
}

TEST(RealtimePolicy, ARefusedTrialMakesNoneOfOursRealTimeDespiteTheLimit) {
  RealtimeAllowance allowance = unprivileged(95, -3);
  allowance.trial_errno = EPERM;  // e.g. a cgroup without real-time runtime
  const RealtimePlan plan = plan_realtime_threads(70, allowance);
  EXPECT_FALSE(plan.waker.realtime);
  EXPECT_FALSE(plan.worker.realtime);
  EXPECT_EQ(plan.worker.nice, -3);
  EXPECT_NE(plan.reason.find("refused"), std::string::npos) << plan.reason;
}

TEST(RealtimePolicy, WhenTheOutputThreadIsNotRealTimeNeitherAreOursNorAboveItsNice) {
  // JACK without -R: a SCHED_FIFO worker, or a lower nice, would starve the callback it feeds.
  const RealtimePlan plan = plan_realtime_threads(std::nullopt, root());
  EXPECT_FALSE(plan.waker.realtime);
  EXPECT_FALSE(plan.worker.realtime);
  EXPECT_EQ(plan.waker.nice, 0);
  EXPECT_EQ(plan.worker.nice, 0);
  EXPECT_NE(plan.reason.find("not real-time"), std::string::npos) << plan.reason;
}

TEST(RealtimePolicy, ARefusedRealTimeRequestFallsBackToSchedOtherAndSaysWhy) {
  // Priority 0 is invalid for SCHED_FIFO (EINVAL): the refusal path, whatever our privileges.
  AppliedScheduling applied;
  std::thread([&] { applied = apply_thread_scheduling({true, 0, 0}, 0); }).join();
  EXPECT_EQ(applied.policy, SCHED_OTHER);
  EXPECT_EQ(applied.error, EINVAL);
  EXPECT_NE(describe_applied_scheduling(applied).find("SCHED_OTHER nice 0 (refused: "),
            std::string::npos)
      << describe_applied_scheduling(applied);
}

TEST(RealtimePolicy, AGrantedRequestIsReadBackFromTheKernel) {
  const RealtimeAllowance allowance = query_realtime_allowance(1);
  if (allowance.trial_errno != 0 || (!allowance.cap_sys_nice && allowance.rtprio_limit == 0)) {
    GTEST_SKIP() << "SCHED_FIFO is not allowed here";
  }
  AppliedScheduling applied;
  std::thread([&] { applied = apply_thread_scheduling({true, 1, 0}, 0); }).join();
  EXPECT_EQ(applied.policy, SCHED_FIFO);
  EXPECT_EQ(applied.priority, 1);
  EXPECT_EQ(applied.error, 0);
  EXPECT_EQ(describe_applied_scheduling(applied), "SCHED_FIFO 1");
}

TEST(RealtimePolicy, TheThrottlingShareComesFromRuntimeOverPeriod) {
  EXPECT_DOUBLE_EQ(realtime_throttle_share(950000, 1000000), 0.95);
  EXPECT_DOUBLE_EQ(realtime_throttle_share(-1, 1000000), 1.0);  // throttling off
  EXPECT_DOUBLE_EQ(realtime_throttle_share(0, 0), 1.0);         // unreadable
}

TEST(RealtimePolicy, AWorkerNearTheThrottlingShareIsFlaggedOnlyWhenRealTime) {
  EXPECT_FALSE(near_realtime_throttling(true, 0.80, 0.95));
  EXPECT_TRUE(near_realtime_throttling(true, 0.86, 0.95));
  EXPECT_TRUE(near_realtime_throttling(true, 0.99, 0.95));
  EXPECT_FALSE(near_realtime_throttling(false, 0.99, 0.95));  // SCHED_OTHER is never throttled
  EXPECT_FALSE(near_realtime_throttling(true, 0.99, 1.0));    // throttling off
}

}  // namespace
}  // namespace synthfarm
