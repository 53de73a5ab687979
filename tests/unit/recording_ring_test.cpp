// The recorder's real-time half: what on_mixed() takes comes out in order, whole frames only;
// what does not fit is dropped and counted exactly, never waited for; a waiting consumer is
// woken by data and by close(), not by its timeout. No file: that is the recorder's half.
#include "coordinator/mix/recording_ring.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "tests/support/recording_checks.h"

namespace synthfarm {
namespace {

using namespace std::chrono_literals;
using namespace synthfarm::testing::recording;

// Takes everything the ring holds now; returns the channel-0 values (numbered() frames carry
// their index there), and fails the test on a frame whose channels do not belong together.
std::vector<float> take_all(RecordingRing& ring) {
  std::vector<float> firsts;
  const auto frames = static_cast<std::uint32_t>(ring.available_frames());
  ring.consume(frames, [&](const float* piece, std::uint32_t piece_frames, std::uint32_t) {
    for (std::uint32_t f = 0; f < piece_frames; ++f) {
      EXPECT_EQ(piece[f * kChannels + 1], -piece[f * kChannels]) << "a torn frame";
      firsts.push_back(piece[f * kChannels]);
    }
  });
  return firsts;
}

TEST(RecordingRing, FramesComeOutInTheOrderTheyWentInAcrossTheEndOfTheRing) {
  RecordingRing ring(kChannels, 1024, 0);
  std::uint64_t next_in = 0;
  std::uint64_t next_out = 0;
  // 300-frame blocks, taken out after every second one: the copies in and out wrap the end of
  // the 1024-frame ring at every offset the stride reaches.
  for (int round = 0; round < 40; ++round) {
    push_in_blocks(ring, numbered(next_in, 600), 300);
    next_in += 600;
    for (const float index : take_all(ring)) {
      ASSERT_EQ(index, static_cast<float>(next_out)) << "round " << round;
      ++next_out;
    }
  }
  EXPECT_EQ(next_out, next_in);
  EXPECT_EQ(ring.frames_dropped(), 0u);
}

TEST(RecordingRing, WhatDoesNotFitIsDroppedAndCountedAndThePartThatFitsIsKept) {
  RecordingRing ring(kChannels, 1024, 0);
  // Three blocks of 300 fit (900); of the fourth, 124 fit and 176 are dropped; the fifth is
  // dropped whole.
  push_in_blocks(ring, numbered(0, 1500), 300);
  EXPECT_EQ(ring.frames_dropped(), 176u + 300u);
  ASSERT_EQ(ring.available_frames(), 1024u);
  const std::vector<float> kept = take_all(ring);
  for (std::size_t i = 0; i < kept.size(); ++i) ASSERT_EQ(kept[i], static_cast<float>(i));
  // Room again: the next frames go in, the count stays.
  push_in_blocks(ring, numbered(1500, 10), 10);
  EXPECT_EQ(take_all(ring),
            std::vector<float>({1500, 1501, 1502, 1503, 1504, 1505, 1506, 1507, 1508, 1509}));
  EXPECT_EQ(ring.frames_dropped(), 476u);
}

TEST(RecordingRing, ItsCapacityIsAPowerOfTwoAndItsWakeThresholdLiesInside) {
  const RecordingRing rounded(kChannels, 1000, 0);
  EXPECT_EQ(rounded.capacity_frames(), 1024u);
  EXPECT_EQ(rounded.wake_frames(), 16u) << "1/64 of the ring by default";
  EXPECT_EQ(rounded.channels(), kChannels);
  EXPECT_EQ(RecordingRing(kChannels, 4096, 7).wake_frames(), 7u);
  EXPECT_EQ(RecordingRing(kChannels, 1024, 5000).wake_frames(), 1024u) << "never above the ring";
  const RecordingRing tiny(kChannels, 0, 0);
  EXPECT_EQ(tiny.capacity_frames(), 1u);
  EXPECT_EQ(tiny.wake_frames(), 1u) << "never 0";
}

// A consumer that waits with an hour-long timeout is woken once the ring holds wake_frames, and
// again by close(); after close() it no longer waits at all. A lost wake-up hangs here until
// ctest's timeout.
TEST(RecordingRing, AWaitingConsumerIsWokenByDataAndByCloseNotByItsTimeout) {
  RecordingRing ring(kChannels, 1024, 256);
  std::atomic<bool> saw_frames{false};
  std::thread consumer([&] {
    while (ring.available_frames() < 256) ring.wait_for_frames(1h);
    saw_frames.store(true);
    while (!ring.closed()) ring.wait_for_frames(1h);
  });
  // Below the threshold, then reaching it.
  push_in_blocks(ring, numbered(0, 100), 100);
  push_in_blocks(ring, numbered(100, 156), 156);
  ASSERT_TRUE(wait_until([&] { return saw_frames.load(); }, 60s));
  ring.close();
  consumer.join();
  EXPECT_TRUE(ring.closed());
  ring.wait_for_frames(1h);  // returns at once once closed
  EXPECT_EQ(take_all(ring).size(), 256u) << "close() ends the waiting, not the frames";
}

// The two threads the recorder runs, with a producer faster than its consumer: every frame is
// either taken out, whole and in order, or counted as dropped. ThreadSanitizer checks the
// ring's ordering here.
TEST(RecordingRing, AProducerAndAConsumerOnTwoThreadsLoseNoFrameUncounted) {
  RecordingRing ring(kChannels, 512, 64);
  constexpr std::uint64_t kFrames = 400 * kBlockFrames;
  const std::vector<float> stream = numbered(0, kFrames);
  std::vector<float> taken;
  std::thread consumer([&] {
    for (;;) {
      const bool closed = ring.closed();
      const std::vector<float> some = take_all(ring);
      taken.insert(taken.end(), some.begin(), some.end());
      if (closed) return;
      ring.wait_for_frames(100ms);
    }
  });
  // Bursts of 8 blocks (four times the ring) with a pause after each.
  for (std::uint64_t first = 0; first < kFrames; first += kBlockFrames) {
    ring.on_mixed(stream.data() + first * kChannels, kBlockFrames);
    if ((first / kBlockFrames) % 8 == 7) std::this_thread::sleep_for(300us);
  }
  ring.close();
  consumer.join();

  EXPECT_EQ(taken.size() + ring.frames_dropped(), kFrames);
  ASSERT_GT(taken.size(), 0u);
  for (std::size_t i = 1; i < taken.size(); ++i) {
    ASSERT_GT(taken[i], taken[i - 1]) << "frame " << i << " is out of order";
  }
  if (ring.frames_dropped() == 0) {
    EXPECT_EQ(taken.back(), static_cast<float>(kFrames - 1));
  }
  std::printf("[ measured ] %zu of %llu frames taken through a 512-frame ring\n", taken.size(),
              static_cast<unsigned long long>(kFrames));
}

}  // namespace
}  // namespace synthfarm
