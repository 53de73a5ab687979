#pragma once
// A counting sequence streamed through a SpscRing by a producer and a consumer that sleep on the
// shared futex (shared/shared_futex.h) whenever the ring is full or empty: the ring's own tests
// run it between two threads (tests/unit/spsc_ring_test.cpp) and two processes
// (tests/process/spsc_ring_process_test.cpp).
//
// Neither side asserts on speed. Each carries a deadlock guard: if it makes no progress for
// kStallLimit it stops and says so instead of hanging.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ostream>
#include <vector>

#include "shared/segment_layout.h"
#include "shared/spsc_ring.h"

namespace synthfarm::testing {

// Deadlock guard, not a speed threshold: a healthy stream progresses every few microseconds.
inline constexpr std::chrono::seconds kStallLimit{10};
// A sleeper is woken by the other side's notify_sleeper(), never by its timeout: were the
// timeout short, a lost wake-up would only make the test slow. With the timeout as long as the
// stall limit, a lost wake-up makes the test fail (after 10 s) instead, and it cannot hang.
inline constexpr std::chrono::seconds kSleepTimeout = kStallLimit;

// Frame `frame`, channel `channel` of the counting sequence. Below 2^24 every integer is
// exactly representable in float32, so equality checks are exact.
float counting_value(std::uint64_t frame, std::uint32_t channel, std::uint32_t channels);

// Writes frames [first_frame, first_frame + frames) of the sequence into `buffer`, interleaved.
void fill_counting(std::vector<float>& buffer, std::uint64_t first_frame, std::uint32_t frames,
                   std::uint32_t channels);

// Uneven chunk sizes in [1, limit], deterministic, so that chunk boundaries fall everywhere
// relative to the ring's wrap point.
std::uint32_t uneven_chunk(std::uint64_t step, std::uint32_t limit);

// Why a side stopped. The values are a forked producer's exit status.
enum class StreamOutcome : int {
  kDone = 0,
  kStalled = 3,        // no progress for kStallLimit
  kOtherSideQuit = 4,  // the other side raised `abandon`
};

std::ostream& operator<<(std::ostream& out, StreamOutcome outcome);

// The producer. Thread: any; it may run in a forked child, so it makes no GoogleTest call and
// does not allocate. Writes `total_frames` frames of the counting sequence in uneven chunks,
// sleeping on space_ready while the ring lacks room and notifying data_ready after each write.
// `buffer` must hold capacity x channels floats (allocated by the caller).
StreamOutcome produce_counting_frames(SpscRing& ring, WorkerSlot& slot,
                                      const std::atomic<std::uint32_t>& abandon,
                                      std::uint64_t total_frames, std::vector<float>& buffer);

struct ConsumerReport {
  StreamOutcome outcome = StreamOutcome::kDone;
  std::uint64_t frames_read = 0;
  std::uint64_t mismatches = 0;
  std::uint64_t first_bad_frame = 0;
  std::uint32_t first_bad_channel = 0;
  float first_bad_value = 0.0f;
  std::uint64_t max_available_seen = 0;  // must never exceed capacity
};

// The consumer. Reads until `total_frames` have arrived, in uneven chunks, and checks every
// value. Stops at the first wrong value (raising `abandon`, so that the producer stops too).
ConsumerReport consume_counting_frames(SpscRing& ring, WorkerSlot& slot,
                                       std::atomic<std::uint32_t>& abandon,
                                       std::uint64_t total_frames);

// GoogleTest expectations: the consumer read all `total_frames`, in order, every value right,
// and never saw more than the ring holds.
void expect_clean_stream(const ConsumerReport& report, std::uint64_t total_frames,
                         std::uint32_t capacity_frames, std::uint32_t channels);

}  // namespace synthfarm::testing
