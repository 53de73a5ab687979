// SpscRing (shared/spsc_ring.h): single-thread semantics, 64-bit positions that cross 2^32,
// two threads and two processes streaming a counting sequence, with sleeping on the shared
// futex (shared/shared_futex.h) whenever the ring is full or empty.
//
// The multi-thread and multi-process tests never assert on speed. They carry a deadlock
// guard: if neither side makes progress for kStallLimit the test fails instead of hanging.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <ostream>
#include <thread>
#include <vector>

#include "shared/segment_layout.h"
#include "shared/shared_futex.h"
#include "shared/spsc_ring.h"

namespace synthfarm {
namespace {

using namespace std::chrono_literals;

// Deadlock guard, not a speed threshold: a healthy run progresses every few microseconds.
constexpr auto kStallLimit = 10s;
// A sleeper is woken by the other side's notify_sleeper(), never by its timeout: were the
// timeout short, a lost wake-up would only make the test slow. With the timeout as long as the
// stall limit, a lost wake-up makes the test fail (after 10 s) instead, and it cannot hang.
constexpr auto kSleepTimeout = kStallLimit;

// Frame `frame`, channel `channel` of the counting sequence. Below 2^24 every integer is
// exactly representable in float32, so equality checks are exact.
float counting_value(std::uint64_t frame, std::uint32_t channel, std::uint32_t channels) {
  return static_cast<float>((frame * channels + channel) % (std::uint64_t{1} << 24));
}

void fill_counting(std::vector<float>& buffer, std::uint64_t first_frame, std::uint32_t frames,
                   std::uint32_t channels) {
  for (std::uint32_t f = 0; f < frames; ++f) {
    for (std::uint32_t c = 0; c < channels; ++c) {
      buffer[std::size_t{f} * channels + c] = counting_value(first_frame + f, c, channels);
    }
  }
}

// Uneven chunk sizes in [1, limit], deterministic, so that chunk boundaries fall everywhere
// relative to the ring's wrap point.
std::uint32_t uneven_chunk(std::uint64_t step, std::uint32_t limit) {
  return static_cast<std::uint32_t>((step * 7919u + 13u) % limit) + 1u;
}

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
// The producer and consumer loops shared by the two-thread and two-process tests. No gtest
// calls in here: the producer also runs in a forked child.

// Why a side stopped.
enum class StreamOutcome : int {
  kDone = 0,
  kStalled = 3,        // no progress for kStallLimit
  kOtherSideQuit = 4,  // the other side raised `abandon`
};

std::ostream& operator<<(std::ostream& out, StreamOutcome outcome) {
  switch (outcome) {
    case StreamOutcome::kDone:
      return out << "done";
    case StreamOutcome::kStalled:
      return out << "stalled";
    case StreamOutcome::kOtherSideQuit:
      return out << "the other side quit";
  }
  return out << static_cast<int>(outcome);
}

// Writes `total_frames` frames of the counting sequence in uneven chunks, sleeping on
// space_ready while the ring lacks room and notifying data_ready after each write.
// `buffer` must hold capacity x channels floats (allocated by the caller, so that a forked
// child does not allocate).
StreamOutcome produce_counting_frames(SpscRing& ring, WorkerSlot& slot,
                                      const std::atomic<std::uint32_t>& abandon,
                                      std::uint64_t total_frames, std::vector<float>& buffer) {
  const std::uint32_t channels = ring.channels();
  const std::uint32_t max_chunk = ring.capacity_frames() / 2 + 77;  // uneven, <= capacity
  std::uint64_t written = 0;
  auto last_progress = std::chrono::steady_clock::now();
  for (std::uint64_t step = 0; written < total_frames; ++step) {
    const auto chunk = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(uneven_chunk(step, max_chunk), total_frames - written));
    while (ring.free_frames() < chunk) {
      if (abandon.load(std::memory_order_acquire)) return StreamOutcome::kOtherSideQuit;
      sleep_until_ready(
          slot.space_ready, [&] { return ring.free_frames() >= chunk || abandon.load(); },
          kSleepTimeout);
      // Either the consumer stopped, or its notify_sleeper() did not wake us (lost wake-up).
      if (std::chrono::steady_clock::now() - last_progress >= kStallLimit) {
        return StreamOutcome::kStalled;
      }
    }
    fill_counting(buffer, written, chunk, channels);
    ring.write(buffer.data(), chunk);
    written += chunk;
    notify_sleeper(slot.data_ready);
    last_progress = std::chrono::steady_clock::now();
  }
  return StreamOutcome::kDone;
}

struct ConsumerReport {
  StreamOutcome outcome = StreamOutcome::kDone;
  std::uint64_t frames_read = 0;
  std::uint64_t mismatches = 0;
  std::uint64_t first_bad_frame = 0;
  std::uint32_t first_bad_channel = 0;
  float first_bad_value = 0.0f;
  std::uint64_t max_available_seen = 0;  // must never exceed capacity
};

// Reads until `total_frames` have arrived, in uneven chunks, and checks every value. Stops at
// the first wrong value (raising `abandon`, so that the producer stops too).
ConsumerReport consume_counting_frames(SpscRing& ring, WorkerSlot& slot,
                                       std::atomic<std::uint32_t>& abandon,
                                       std::uint64_t total_frames) {
  const std::uint32_t channels = ring.channels();
  const std::uint32_t max_chunk = ring.capacity_frames() / 3 + 101;
  ConsumerReport report;
  auto last_progress = std::chrono::steady_clock::now();
  for (std::uint64_t step = 0; report.frames_read < total_frames; ++step) {
    const std::uint64_t available = ring.available_frames();
    report.max_available_seen = std::max(report.max_available_seen, available);
    if (available == 0) {
      sleep_until_ready(
          slot.data_ready, [&] { return ring.available_frames() > 0; }, kSleepTimeout);
      // Either the producer stopped, or its notify_sleeper() did not wake us (lost wake-up).
      if (std::chrono::steady_clock::now() - last_progress >= kStallLimit) {
        report.outcome = StreamOutcome::kStalled;
        break;
      }
      continue;
    }
    const auto chunk = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(uneven_chunk(step, max_chunk), available));
    ring.consume(chunk, [&](const float* piece, std::uint32_t frames, std::uint32_t offset) {
      for (std::uint32_t f = 0; f < frames && report.mismatches == 0; ++f) {
        const std::uint64_t frame = report.frames_read + offset + f;
        for (std::uint32_t c = 0; c < channels; ++c) {
          const float value = piece[std::size_t{f} * channels + c];
          if (value != counting_value(frame, c, channels)) {
            report.mismatches = 1;
            report.first_bad_frame = frame;
            report.first_bad_channel = c;
            report.first_bad_value = value;
            break;
          }
        }
      }
    });
    report.frames_read += chunk;
    notify_sleeper(slot.space_ready);
    last_progress = std::chrono::steady_clock::now();
    if (report.mismatches != 0) break;
  }
  if (report.outcome != StreamOutcome::kDone || report.mismatches != 0) {
    abandon.store(1, std::memory_order_release);
    wake_always(slot.space_ready);
  }
  return report;
}

void expect_clean_stream(const ConsumerReport& report, std::uint64_t total_frames,
                         std::uint32_t capacity_frames, std::uint32_t channels) {
  EXPECT_EQ(report.outcome, StreamOutcome::kDone)
      << "the consumer waited 10 s without progress or a wake-up after " << report.frames_read
      << " frames";
  EXPECT_EQ(report.mismatches, 0u)
      << "frame " << report.first_bad_frame << " channel " << report.first_bad_channel << " holds "
      << report.first_bad_value << ", expected "
      << counting_value(report.first_bad_frame, report.first_bad_channel, channels);
  EXPECT_EQ(report.frames_read, total_frames);
  EXPECT_LE(report.max_available_seen, capacity_frames);
}

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
    producer_outcome =
        produce_counting_frames(heap.ring(), heap.slot(), abandon, kTotalFrames, producer_buffer);
    if (producer_outcome != StreamOutcome::kDone) wake_always(heap.slot().data_ready);
  });
  const ConsumerReport report =
      consume_counting_frames(heap.ring(), heap.slot(), abandon, kTotalFrames);
  producer.join();

  expect_clean_stream(report, kTotalFrames, kCapacity, kChannels);
  EXPECT_EQ(producer_outcome, StreamOutcome::kDone);
  EXPECT_EQ(heap.ring().available_frames(), 0u);
}

// ---------------------------------------------------------------------------------------------
// (d) Two processes sharing a MAP_SHARED mapping: the forked child produces, the parent
// consumes. ThreadSanitizer cannot see across processes; this checks the cross-process claim of
// segment_layout.h (address-free lock-free atomics) and the shared (non-private) futex.

// What the mapping holds: the slot, a flag the consumer raises when it gives up, then frames.
struct SharedRingBlock {
  WorkerSlot slot;
  alignas(kCacheLineBytes) std::atomic<std::uint32_t> consumer_abandoned{0};
};

class SharedMapping {
 public:
  explicit SharedMapping(std::size_t bytes) : bytes_(bytes) {
    address_ = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  }
  ~SharedMapping() {
    if (address_ != MAP_FAILED) munmap(address_, bytes_);
  }
  SharedMapping(const SharedMapping&) = delete;
  SharedMapping& operator=(const SharedMapping&) = delete;
  bool ok() const { return address_ != MAP_FAILED; }
  char* bytes() const { return static_cast<char*>(address_); }

 private:
  std::size_t bytes_;
  void* address_;
};

// Kills and reaps the child if the test leaves early, so that no process outlives it.
class ChildGuard {
 public:
  explicit ChildGuard(pid_t pid) : pid_(pid) {}
  ~ChildGuard() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;

  // Waits for the child to exit; returns its wait status. Gives up (killing it) after
  // kStallLimit, reporting that as a negative value.
  int wait_for_exit() {
    const auto deadline = std::chrono::steady_clock::now() + kStallLimit;
    int status = 0;
    while (true) {
      const pid_t result = waitpid(pid_, &status, WNOHANG);
      if (result == pid_) {
        pid_ = -1;
        return status;
      }
      if (result == -1 || std::chrono::steady_clock::now() > deadline) return -1;
      std::this_thread::sleep_for(1ms);
    }
  }

 private:
  pid_t pid_;
};

TEST(SpscRing, TwoProcessesStreamMillionsOfFramesThroughSharedMemory) {
  constexpr std::uint32_t kCapacity = 1024;
  constexpr std::uint32_t kChannels = 2;
  constexpr std::uint64_t kTotalFrames = 3'000'000;
  constexpr std::size_t kFramesOffset =
      (sizeof(SharedRingBlock) + kCacheLineBytes - 1) / kCacheLineBytes * kCacheLineBytes;
  SharedMapping mapping(kFramesOffset + std::size_t{kCapacity} * kChannels * sizeof(float));
  ASSERT_TRUE(mapping.ok()) << "mmap: " << std::strerror(errno);
  auto* block = new (mapping.bytes()) SharedRingBlock{};
  auto* frames = reinterpret_cast<float*>(mapping.bytes() + kFramesOffset);
  SpscRing ring(block->slot.write_pos, block->slot.read_pos, frames, kCapacity, kChannels);
  // Allocated before fork(), so that the child does not allocate.
  std::vector<float> producer_buffer(std::size_t{kCapacity} * kChannels);

  // No thread exists in this test yet: the child is a copy of a single-threaded process.
  const pid_t child = fork();
  ASSERT_NE(child, -1) << "fork: " << std::strerror(errno);
  if (child == 0) {
    // The child: no gtest calls, no destructors, no atexit handlers.
    const StreamOutcome outcome = produce_counting_frames(
        ring, block->slot, block->consumer_abandoned, kTotalFrames, producer_buffer);
    _exit(static_cast<int>(outcome));
  }
  ChildGuard guard(child);

  const ConsumerReport report =
      consume_counting_frames(ring, block->slot, block->consumer_abandoned, kTotalFrames);
  const int status = guard.wait_for_exit();

  expect_clean_stream(report, kTotalFrames, kCapacity, kChannels);
  ASSERT_NE(status, -1) << "the producer process did not exit within 10 s";
  ASSERT_TRUE(WIFEXITED(status)) << "the producer process died (wait status " << status << ")";
  EXPECT_EQ(WEXITSTATUS(status), static_cast<int>(StreamOutcome::kDone))
      << "producer exit status: 3 = waited 10 s without progress or a wake-up, 4 = the consumer "
         "gave up";
  EXPECT_EQ(block->slot.write_pos.load(), kTotalFrames);
  EXPECT_EQ(block->slot.read_pos.load(), kTotalFrames);
  block->~SharedRingBlock();
}

}  // namespace
}  // namespace synthfarm
