// Two processes sharing a MAP_SHARED mapping: the forked child produces, the parent consumes, a
// counting sequence (tests/support/counting_stream.h) through a SpscRing (shared/spsc_ring.h),
// each side sleeping on the shared futex whenever the ring is full or empty. ThreadSanitizer
// cannot see across processes; this checks the cross-process claim of segment_layout.h
// (address-free lock-free atomics) and the shared (non-private) futex. The two-thread case and
// the ring's single-thread semantics are in tests/unit/spsc_ring_test.cpp.
//
// Never asserts on speed. Each side carries a deadlock guard: if neither makes progress for
// 10 s the test fails instead of hanging, and the child never outlives the test.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <new>
#include <thread>
#include <vector>

#include "shared/segment_layout.h"
#include "shared/spsc_ring.h"
#include "tests/support/counting_stream.h"

namespace synthfarm {
namespace {

using namespace std::chrono_literals;
using testing::ConsumerReport;
using testing::kStallLimit;
using testing::StreamOutcome;

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
    const StreamOutcome outcome = testing::produce_counting_frames(
        ring, block->slot, block->consumer_abandoned, kTotalFrames, producer_buffer);
    _exit(static_cast<int>(outcome));
  }
  ChildGuard guard(child);

  const ConsumerReport report =
      testing::consume_counting_frames(ring, block->slot, block->consumer_abandoned, kTotalFrames);
  const int status = guard.wait_for_exit();

  testing::expect_clean_stream(report, kTotalFrames, kCapacity, kChannels);
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
