#include "shared/realtime_setup.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

namespace synthfarm {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(RealtimeSetup, AThreadAtNormalPriorityIsNamedNotRealTimeWithTheFix) {
  std::string described;
  // A new thread: SCHED_OTHER unless this test itself runs under a real-time policy.
  std::thread([&] {
    sched_param parameters{};
    pthread_setschedparam(pthread_self(), SCHED_OTHER, &parameters);
    described = describe_thread_scheduling(pthread_self());
  }).join();
  EXPECT_TRUE(contains(described, "SCHED_OTHER (not real-time")) << described;
  EXPECT_TRUE(contains(described, "rtprio")) << described;
  EXPECT_TRUE(contains(described, "jackd with -R")) << described;
}

TEST(RealtimeSetup, ARealTimeThreadIsNamedWithItsPriority) {
  std::string described;
  bool granted = false;
  std::thread([&] {
    sched_param parameters{};
    parameters.sched_priority = 10;
    granted = pthread_setschedparam(pthread_self(), SCHED_FIFO, &parameters) == 0;
    described = describe_thread_scheduling(pthread_self());
  }).join();
  if (!granted) GTEST_SKIP() << "this user may not use SCHED_FIFO; the other branch is tested";
  EXPECT_EQ(described, "SCHED_FIFO priority 10 (real-time)");
}

TEST(RealtimeSetup, WorkersMemoryLineSaysHowManyAreNotLockedAndWhy) {
  EXPECT_EQ(describe_worker_memory(4, 0, 0), "workers: memory locked in all 4 (mlockall)");
  const std::string refused = describe_worker_memory(4, 3, ENOMEM);
  EXPECT_TRUE(contains(refused, "not locked in 3 of 4")) << refused;
  EXPECT_TRUE(contains(refused, std::strerror(ENOMEM))) << refused;
  EXPECT_TRUE(contains(refused, "memlock limit")) << refused;
  EXPECT_TRUE(contains(refused, "/etc/security/limits.d")) << refused;
}

}  // namespace
}  // namespace synthfarm
