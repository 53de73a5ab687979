#pragma once
// The real-time half of --record: the tap the output hands every buffer to, and the lock-free
// ring that carries those buffers to the recorder's writer thread (coordinator/output/
// recorder.h), which writes them to the file.
//
// on_mixed() copies what fits, counts what does not as dropped (it never waits for the disk),
// and wakes a sleeping writer at most once per call, only when the ring holds wake_frames: at
// 256-frame buffers, one callback in 8 pays for the futex syscall (3 to 7 us measured), not
// every one. The writer sleeps in wait_for_frames() until then, or until its recheck timeout
// (so that a paused output's last frames still reach the file), or until close().
//
// One producer thread (the output) and one consumer thread (the writer; after the writer is
// joined, the thread that joined it).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <utility>

#include "coordinator/mix/mix_tap.h"
#include "shared/segment_layout.h"
#include "shared/spsc_ring.h"

namespace synthfarm {

class RecordingRing final : public MixTap {
 public:
  // Largest ring: 2^26 frames (256 MiB per channel); a larger request is clamped.
  static constexpr std::uint32_t kMaxFrames = 1u << 26;

  // Thread: control, before the output starts. Allocates, and touches every page of the ring,
  // so that on_mixed() never page-faults. `capacity_frames` is rounded up to a power of two
  // (1 to kMaxFrames); `wake_frames` is clamped to 1..capacity, and 0 means 1/64 of the ring
  // (2048 frames, 43 ms at 48 kHz, for the recorder's 2-second ring).
  RecordingRing(std::uint32_t channels, std::uint32_t capacity_frames, std::uint32_t wake_frames);
  RecordingRing(const RecordingRing&) = delete;
  RecordingRing& operator=(const RecordingRing&) = delete;

  // --- Producer. Thread: the output (audio callback, null clock or file thread), one only.

  // RT-safe: no allocation, lock, I/O, logging or waiting; copies into the ring, counts the
  // frames that do not fit as dropped, and makes at most one futex wake syscall, only when the
  // consumer sleeps and the ring holds wake_frames. `interleaved` holds `frames` frames of
  // channels().
  void on_mixed(const float* interleaved, std::uint32_t frames) noexcept override;

  // --- Either side. Thread: any.

  // Frames on_mixed() found no room for.
  std::uint64_t frames_dropped() const noexcept {
    // Relaxed: a statistic with one writer (on_mixed); nothing is published through it.
    return dropped_.load(std::memory_order_relaxed);
  }
  std::uint32_t capacity_frames() const noexcept { return capacity_frames_; }
  std::uint32_t channels() const noexcept { return ring_.channels(); }
  std::uint32_t wake_frames() const noexcept { return wake_frames_; }

  // --- Consumer. Thread: the consumer only. None of these allocates.

  std::uint64_t available_frames() const noexcept { return ring_.available_frames(); }
  // Calls visit(const float* interleaved, std::uint32_t frames, std::uint32_t offset) for the
  // next `frames` frames (one or two pieces), then hands their space back to on_mixed().
  // Precondition: frames <= available_frames().
  template <typename Visit>
  void consume(std::uint32_t frames, Visit&& visit) noexcept {
    ring_.consume(frames, std::forward<Visit>(visit));
  }
  // Hands `frames` frames back unread. Precondition: frames <= available_frames().
  void skip(std::uint64_t frames) noexcept { ring_.skip(frames); }
  // Blocks, never spinning, until the ring holds wake_frames, close() has been called, or
  // `timeout` has passed (spurious returns are possible: the caller rechecks what it needs).
  void wait_for_frames(std::chrono::nanoseconds timeout) noexcept;

  // --- Shutdown.

  // Thread: control (or any but the producer's). Tells the consumer to stop waiting: wakes it
  // now, and wait_for_frames() returns at once from then on. Frames still arrive and can
  // still be consumed.
  void close() noexcept;
  // Thread: the consumer. True once close() was called; everything on_mixed() pushed before
  // close() is then available.
  bool closed() const noexcept {
    // Acquire: pairs with close()'s release store.
    return closed_.load(std::memory_order_acquire);
  }

 private:
  const std::uint32_t capacity_frames_;  // a power of two
  const std::uint32_t wake_frames_;
  std::unique_ptr<float[]> memory_;

  // Producer side: written by on_mixed() only.
  alignas(kCacheLineBytes) std::atomic<std::uint64_t> write_pos_{0};
  std::atomic<std::uint64_t> dropped_{0};
  // Consumer side: written by the consumer only.
  alignas(kCacheLineBytes) std::atomic<std::uint64_t> read_pos_{0};
  WakeWord wake_;  // the consumer sleeps here; on_mixed() and close() wake it
  std::atomic<bool> closed_{false};

  SpscRing ring_;  // over memory_, write_pos_ and read_pos_; declared after them
};

}  // namespace synthfarm
