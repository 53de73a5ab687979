// SpscRing (shared/spsc_ring.h): single-thread semantics, 64-bit positions that cross 2^32, and
// two threads streaming a counting sequence (tests/support/counting_stream.h), with sleeping on
// the shared futex (shared/shared_futex.h) whenever the ring is full or empty. Two processes:
// tests/process/spsc_ring_process_test.cpp.
//
// The two-thread test never asserts on speed. It carries a deadlock guard: if neither side makes
// progress for 10 s the test fails instead of hanging.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "shared/segment_layout.h"
#include "shared/shared_futex.h"
#include "shared/spsc_ring.h"
#include "tests/support/counting_stream.h"

namespace synthfarm {
namespace {

using testing::ConsumerReport;
using testing::counting_value;
using testing::fill_counting;
using testing::StreamOutcome;
using testing::uneven_chunk;

// A ring whose positions and frames live on the heap: for the single-process tests.
class HeapRing {
 public:
  HeapRing(std::uint32_t capacity_frames, std::uint32_t channels)
      : slot_(std::make_unique<WorkerSlot>()),
        frames_(std::size_t{capacity_frames} * channels, -1.0f),
        ring_(slot_->write_pos, slot_->read_pos, frames_.data(), capacity_frames, channels) {}

  // Puts both positions at `position`, as if that many frames had passed through already.
  void start_at(std::uint64_t position) {
    slot_->write_pos.store(position);
    slot_->read_pos.store(position);
  }

  WorkerSlot& slot() { return *slot_; }
  SpscRing& ring() { return ring_; }
  const std::vector<float>& raw_frames() const { return frames_; }

 private:
  std::unique_ptr<WorkerSlot> slot_;
  std::vector<float> frames_;
  SpscRing ring_;
};

// ---------------------------------------------------------------------------------------------
// (a) Single-thread semantics.

TEST(SpscRing, EmptyRingHasNothingAvailableAndEveryFrameFree) {
  HeapRing heap(64, 2);
  EXPECT_EQ(heap.ring().available_frames(), 0u);
  EXPECT_EQ(heap.ring().filled_frames_for_producer(), 0u);
  EXPECT_EQ(heap.ring().free_frames(), 64u);
  EXPECT_EQ(heap.ring().capacity_frames(), 64u);
  EXPECT_EQ(heap.ring().channels(), 2u);
}

TEST(SpscRing, ReadReturnsWrittenFramesInOrder) {
  constexpr std::uint32_t kChannels = 3;
  HeapRing heap(64, kChannels);
  std::vector<float> in(64 * kChannels);
  fill_counting(in, 0, 10, kChannels);
  heap.ring().write(in.data(), 10);
  EXPECT_EQ(heap.ring().available_frames(), 10u);
  EXPECT_EQ(heap.ring().free_frames(), 54u);

  std::vector<float> out(10 * kChannels, -1.0f);
  heap.ring().read(out.data(), 4);
  heap.ring().read(out.data() + 4 * kChannels, 6);
  for (std::uint32_t f = 0; f < 10; ++f) {
    for (std::uint32_t c = 0; c < kChannels; ++c) {
      EXPECT_EQ(out[f * kChannels + c], counting_value(f, c, kChannels)) << "frame " << f;
    }
  }
  EXPECT_EQ(heap.ring().available_frames(), 0u);
  EXPECT_EQ(heap.ring().free_frames(), 64u);
}

TEST(SpscRing, WriteAndReadWrapAroundTheCapacityBoundaryInTwoPieces) {
  constexpr std::uint32_t kCapacity = 16;
  constexpr std::uint32_t kChannels = 2;
  HeapRing heap(kCapacity, kChannels);
  heap.start_at(kCapacity - 3);  // 3 frames before the end of the buffer

  std::vector<float> in(8 * kChannels);
  fill_counting(in, 0, 8, kChannels);
  heap.ring().write(in.data(), 8);

  // The frames land as 3 at the end of the buffer, then 5 at its start.
  const std::vector<float>& raw = heap.raw_frames();
  for (std::uint32_t f = 0; f < 8; ++f) {
    const std::uint32_t slot_index = (kCapacity - 3 + f) % kCapacity;
    for (std::uint32_t c = 0; c < kChannels; ++c) {
      EXPECT_EQ(raw[slot_index * kChannels + c], counting_value(f, c, kChannels)) << "frame " << f;
    }
  }

  // consume() hands them out as two pieces: 3 frames at offset 0, then 5 at offset 3.
  struct Piece {
    const float* data;
    std::uint32_t frames;
    std::uint32_t offset;
  };
  std::vector<Piece> pieces;
  heap.ring().consume(8, [&](const float* data, std::uint32_t frames, std::uint32_t offset) {
    pieces.push_back({data, frames, offset});
  });
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[0].data, raw.data() + (kCapacity - 3) * kChannels);
  EXPECT_EQ(pieces[0].frames, 3u);
  EXPECT_EQ(pieces[0].offset, 0u);
  EXPECT_EQ(pieces[1].data, raw.data());
  EXPECT_EQ(pieces[1].frames, 5u);
  EXPECT_EQ(pieces[1].offset, 3u);
  EXPECT_EQ(heap.ring().available_frames(), 0u);
}

TEST(SpscRing, ReadCopiesBothPiecesOfAWrappedSpanIntoOneBuffer) {
  constexpr std::uint32_t kCapacity = 16;
  constexpr std::uint32_t kChannels = 2;
  HeapRing heap(kCapacity, kChannels);
  heap.start_at(5 * kCapacity - 7);
  std::vector<float> in(12 * kChannels);
  fill_counting(in, 0, 12, kChannels);
  heap.ring().write(in.data(), 12);
  std::vector<float> out(12 * kChannels, -1.0f);
  heap.ring().read(out.data(), 12);
  EXPECT_EQ(out, in);
}

TEST(SpscRing, SkipDropsFramesWithoutReadingThem) {
  constexpr std::uint32_t kChannels = 2;
  HeapRing heap(32, kChannels);
  std::vector<float> in(20 * kChannels);
  fill_counting(in, 0, 20, kChannels);
  heap.ring().write(in.data(), 20);

  heap.ring().skip(7);
  EXPECT_EQ(heap.ring().available_frames(), 13u);
  EXPECT_EQ(heap.ring().free_frames(), 32u - 13u);

  std::vector<float> out(kChannels);
  heap.ring().read(out.data(), 1);
  EXPECT_EQ(out[0], counting_value(7, 0, kChannels));
  EXPECT_EQ(out[1], counting_value(7, 1, kChannels));

  heap.ring().skip(12);
  EXPECT_EQ(heap.ring().available_frames(), 0u);
  EXPECT_EQ(heap.ring().free_frames(), 32u);
}

TEST(SpscRing, ReadNeverReturnsMoreThanWasWritten) {
  constexpr std::uint32_t kCapacity = 64;
  constexpr std::uint32_t kChannels = 1;
  HeapRing heap(kCapacity, kChannels);
  std::vector<float> buffer(kCapacity * kChannels);
  std::uint64_t written = 0;
  std::uint64_t read = 0;
  for (std::uint64_t step = 0; step < 2000; ++step) {
    const auto free = static_cast<std::uint32_t>(heap.ring().free_frames());
    const std::uint32_t to_write = std::min(uneven_chunk(step, 40) - 1, free);
    fill_counting(buffer, written, to_write, kChannels);
    heap.ring().write(buffer.data(), to_write);
    written += to_write;

    ASSERT_EQ(heap.ring().available_frames(), written - read) << "step " << step;
    ASSERT_EQ(heap.ring().filled_frames_for_producer(), written - read) << "step " << step;
    ASSERT_EQ(heap.ring().free_frames(), kCapacity - (written - read)) << "step " << step;

    const auto available = static_cast<std::uint32_t>(heap.ring().available_frames());
    const std::uint32_t to_read = std::min(uneven_chunk(step * 3 + 1, 45) - 1, available);
    heap.ring().read(buffer.data(), to_read);
    for (std::uint32_t f = 0; f < to_read; ++f) {
      ASSERT_EQ(buffer[f], counting_value(read + f, 0, kChannels)) << "step " << step;
    }
    read += to_read;
    ASSERT_LE(read, written);
    ASSERT_EQ(heap.ring().available_frames(), written - read) << "step " << step;
  }
  EXPECT_GT(written, 10 * kCapacity);  // the ring wrapped many times
}

TEST(SpscRing, FillingToCapacityLeavesNoFreeFrames) {
  constexpr std::uint32_t kCapacity = 32;
  constexpr std::uint32_t kChannels = 2;
  HeapRing heap(kCapacity, kChannels);
  heap.start_at(11);  // not at a buffer boundary, so the fill wraps
  std::vector<float> in(kCapacity * kChannels);
  fill_counting(in, 0, kCapacity, kChannels);
  heap.ring().write(in.data(), 20);
  heap.ring().write(in.data() + 20 * kChannels, kCapacity - 20);
  EXPECT_EQ(heap.ring().free_frames(), 0u);
  EXPECT_EQ(heap.ring().available_frames(), kCapacity);

  std::vector<float> out(kCapacity * kChannels, -1.0f);
  heap.ring().read(out.data(), kCapacity);
  EXPECT_EQ(out, in);  // a full ring overwrote nothing
  EXPECT_EQ(heap.ring().free_frames(), kCapacity);
}

// ---------------------------------------------------------------------------------------------
// (b) 64-bit positions crossing 2^32: a ring that used 32-bit arithmetic anywhere (the index
// mask, the subtraction) would lose frames or report a wrong fill level here.

TEST(SpscRing, PositionsThatCross2To32KeepCountsAndValuesRight) {
  constexpr std::uint32_t kCapacity = 256;
  constexpr std::uint32_t kChannels = 2;
  constexpr std::uint64_t kStart = (std::uint64_t{1} << 32) - 3 * kCapacity / 2;
  HeapRing heap(kCapacity, kChannels);
  heap.start_at(kStart);

  std::vector<float> buffer(kCapacity * kChannels);
  std::uint64_t written = 0;  // counted from kStart
  std::uint64_t read = 0;
  for (std::uint64_t step = 0; written < 6 * kCapacity; ++step) {
    const auto free = static_cast<std::uint32_t>(heap.ring().free_frames());
    const std::uint32_t to_write = std::min(uneven_chunk(step, 150), free);
    fill_counting(buffer, written, to_write, kChannels);
    heap.ring().write(buffer.data(), to_write);
    written += to_write;
    ASSERT_EQ(heap.slot().write_pos.load(), kStart + written);
    ASSERT_EQ(heap.ring().available_frames(), written - read) << "write_pos " << kStart + written;
    ASSERT_EQ(heap.ring().free_frames(), kCapacity - (written - read))
        << "write_pos " << kStart + written;

    const auto available = static_cast<std::uint32_t>(heap.ring().available_frames());
    const std::uint32_t to_read = std::min(uneven_chunk(step + 5, 130), available);
    heap.ring().read(buffer.data(), to_read);
    for (std::uint32_t f = 0; f < to_read; ++f) {
      for (std::uint32_t c = 0; c < kChannels; ++c) {
        ASSERT_EQ(buffer[f * kChannels + c], counting_value(read + f, c, kChannels))
            << "read_pos " << kStart + read + f;
      }
    }
    read += to_read;
    ASSERT_EQ(heap.slot().read_pos.load(), kStart + read);
    ASSERT_EQ(heap.ring().available_frames(), written - read) << "read_pos " << kStart + read;
  }
  EXPECT_GT(kStart + read, std::uint64_t{1} << 32) << "the test must cross 2^32";
}

TEST(SpscRing, AFullRingStraddling2To32ReportsCapacityAvailable) {
  constexpr std::uint32_t kCapacity = 64;
  constexpr std::uint32_t kChannels = 1;
  HeapRing heap(kCapacity, kChannels);
  heap.start_at((std::uint64_t{1} << 32) - kCapacity / 2);
  std::vector<float> in(kCapacity);
  fill_counting(in, 0, kCapacity, kChannels);
  heap.ring().write(in.data(), kCapacity);
  EXPECT_EQ(heap.slot().write_pos.load(), (std::uint64_t{1} << 32) + kCapacity / 2);
  EXPECT_EQ(heap.ring().available_frames(), kCapacity);
  EXPECT_EQ(heap.ring().free_frames(), 0u);
  std::vector<float> out(kCapacity, -1.0f);
  heap.ring().read(out.data(), kCapacity);
  EXPECT_EQ(out, in);
  EXPECT_EQ(heap.ring().free_frames(), kCapacity);
}

// ---------------------------------------------------------------------------------------------
// (c) Two threads. ThreadSanitizer can check this one.

TEST(SpscRing, TwoThreadsStreamMillionsOfFramesIntactAndInOrder) {
  constexpr std::uint32_t kCapacity = 1024;
  constexpr std::uint32_t kChannels = 3;
  constexpr std::uint64_t kTotalFrames = 4'000'000;
  HeapRing heap(kCapacity, kChannels);
  std::atomic<std::uint32_t> abandon{0};
  std::vector<float> producer_buffer(std::size_t{kCapacity} * kChannels);

  StreamOutcome producer_outcome = StreamOutcome::kDone;
  std::thread producer([&] {
    producer_outcome = testing::produce_counting_frames(heap.ring(), heap.slot(), abandon,
                                                        kTotalFrames, producer_buffer);
    if (producer_outcome != StreamOutcome::kDone) wake_always(heap.slot().data_ready);
  });
  const ConsumerReport report =
      testing::consume_counting_frames(heap.ring(), heap.slot(), abandon, kTotalFrames);
  producer.join();

  testing::expect_clean_stream(report, kTotalFrames, kCapacity, kChannels);
  EXPECT_EQ(producer_outcome, StreamOutcome::kDone);
  EXPECT_EQ(heap.ring().available_frames(), 0u);
}

}  // namespace
}  // namespace synthfarm
