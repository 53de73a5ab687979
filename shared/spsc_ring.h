#pragma once
// A single-producer/single-consumer ring of interleaved float32 frames.
//
// The ring does not own its memory: the positions live in a WorkerSlot and the frames in the
// shared segment, so the same ring works between two threads or two processes. Positions are
// 64-bit frame counts that only grow (never wrapped): index = position & (capacity - 1).
// At 192 kHz a 64-bit count lasts three million years, so it never overflows in practice,
// and unsigned subtraction keeps `write - read` right even if it did.
//
// Ordering, as in boost::lockfree::spsc_queue: each side loads its own position relaxed (only
// it writes it), loads the other side's with acquire, and stores its own with release after
// touching the frames.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>

namespace synthfarm {

class SpscRing {
 public:
  // capacity_frames must be a power of two. Does not allocate.
  SpscRing(std::atomic<std::uint64_t>& write_pos, std::atomic<std::uint64_t>& read_pos,
           float* frames, std::uint32_t capacity_frames, std::uint32_t channels) noexcept
      : write_pos_(write_pos),
        read_pos_(read_pos),
        frames_(frames),
        capacity_frames_(capacity_frames),
        channels_(channels) {}

  std::uint32_t capacity_frames() const noexcept { return capacity_frames_; }
  std::uint32_t channels() const noexcept { return channels_; }

  // --- Producer side. Thread: the producer only. RT-safe: no allocation, lock or syscall.

  // Frames the ring holds, as the producer sees it (it can only be more than the true value).
  std::uint64_t filled_frames_for_producer() const noexcept {
    const std::uint64_t write = write_pos_.load(std::memory_order_relaxed);  // own index
    const std::uint64_t read =
        read_pos_.load(std::memory_order_acquire);  // pairs: consumer's release
    return write - read;
  }

  std::uint64_t free_frames() const noexcept {
    return capacity_frames_ - filled_frames_for_producer();
  }

  // Copies `frame_count` interleaved frames in and publishes them. Precondition:
  // frame_count <= free_frames().
  void write(const float* interleaved, std::uint32_t frame_count) noexcept {
    const std::uint64_t write = write_pos_.load(std::memory_order_relaxed);  // own index
    copy_in(write, interleaved, frame_count);
    // Pairs with the consumer's acquire in available_frames(): the frames are visible first.
    write_pos_.store(write + frame_count, std::memory_order_release);
  }

  // --- Consumer side. Thread: the consumer only. RT-safe: no allocation, lock or syscall.

  std::uint64_t available_frames() const noexcept {
    const std::uint64_t read = read_pos_.load(std::memory_order_relaxed);  // own index
    const std::uint64_t write =
        write_pos_.load(std::memory_order_acquire);  // pairs: producer's release
    return write - read;
  }

  // Calls visit(const float* interleaved, std::uint32_t frames, std::uint32_t offset) for the
  // next `frame_count` frames (one or two contiguous pieces; `offset` counts frames from the
  // first one), then releases them to the producer. Precondition:
  // frame_count <= available_frames().
  template <typename Visit>
  void consume(std::uint32_t frame_count, Visit&& visit) noexcept {
    const std::uint64_t read = read_pos_.load(std::memory_order_relaxed);  // own index
    const std::uint32_t start = static_cast<std::uint32_t>(read & (capacity_frames_ - 1));
    const std::uint32_t first = std::min(frame_count, capacity_frames_ - start);
    visit(frames_ + std::size_t{start} * channels_, first, 0u);
    if (first < frame_count) visit(frames_, frame_count - first, first);
    // Pairs with the producer's acquire in filled_frames_for_producer(): we are done reading
    // these frames before it may overwrite them.
    read_pos_.store(read + frame_count, std::memory_order_release);
  }

  // Drops `frame_count` frames without reading them. Precondition: <= available_frames().
  void skip(std::uint64_t frame_count) noexcept {
    const std::uint64_t read = read_pos_.load(std::memory_order_relaxed);  // own index
    read_pos_.store(read + frame_count, std::memory_order_release);        // as in consume()
  }

  // Copies the next frames out. Convenience for tests and offline tools.
  void read(float* interleaved, std::uint32_t frame_count) noexcept {
    consume(frame_count, [&](const float* piece, std::uint32_t frames, std::uint32_t offset) {
      std::memcpy(interleaved + std::size_t{offset} * channels_, piece,
                  std::size_t{frames} * channels_ * sizeof(float));
    });
  }

 private:
  void copy_in(std::uint64_t write, const float* interleaved, std::uint32_t frame_count) noexcept {
    if (frame_count == 0) return;  // memcpy's source may not be null even for 0 bytes
    const std::uint32_t start = static_cast<std::uint32_t>(write & (capacity_frames_ - 1));
    const std::uint32_t first = std::min(frame_count, capacity_frames_ - start);
    std::memcpy(frames_ + std::size_t{start} * channels_, interleaved,
                std::size_t{first} * channels_ * sizeof(float));
    if (first < frame_count) {
      std::memcpy(frames_, interleaved + std::size_t{first} * channels_,
                  std::size_t{frame_count - first} * channels_ * sizeof(float));
    }
  }

  std::atomic<std::uint64_t>& write_pos_;
  std::atomic<std::uint64_t>& read_pos_;
  float* frames_;
  std::uint32_t capacity_frames_;
  std::uint32_t channels_;
};

}  // namespace synthfarm
