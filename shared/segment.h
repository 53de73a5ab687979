#pragma once
// Creating (coordinator) and attaching to (worker) the shared-memory segment through
// Boost.Interprocess. The segment's name is removed as soon as every worker has attached, so
// that a crash leaves nothing behind in /dev/shm.

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>

#include <atomic>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "shared/realtime_policy.h"
#include "shared/segment_layout.h"
#include "shared/spsc_ring.h"

namespace synthfarm {

// The two halves of the seqlock over a worker's part of the staging table
// (WorkerSlot::frequency_generation), generic over the copy so that each half's decision can
// be tested on its own. The data must be accessed through atomics (relaxed is enough).
//
// Writer: one thread only. RT-safe (stores only); never waits for a reader. `write` stores the
// data; the generation is odd while it does.
template <typename WriteFn>
void write_seqlocked(std::atomic<std::uint64_t>& generation, WriteFn&& write) noexcept {
  // Relaxed: only this thread writes the generation.
  const std::uint64_t before = generation.load(std::memory_order_relaxed);
  generation.store(before + 1, std::memory_order_relaxed);  // odd: writing
  // Release fence: pairs with the acquire fence in read_seqlocked. A reader that loads any
  // value `write` stores also sees the odd generation above when it re-checks.
  std::atomic_thread_fence(std::memory_order_release);
  write();
  // Release: pairs with read_seqlocked's acquire load; a reader that sees this generation
  // sees all that `write` stored.
  generation.store(before + 2, std::memory_order_release);
}

// Reader: RT-safe; never waits. When the generation is even and not `taken_generation`, runs
// `copy`, then returns true (and sets `taken_generation`) only if the generation did not
// change meanwhile. False: nothing new, the writer is busy, or the copy may be torn; whatever
// `copy` produced must then be ignored, and the reader looks again later.
template <typename CopyFn>
bool read_seqlocked(const std::atomic<std::uint64_t>& generation, std::uint64_t& taken_generation,
                    CopyFn&& copy) noexcept {
  // Acquire: pairs with write_seqlocked's final release store.
  const std::uint64_t seen = generation.load(std::memory_order_acquire);
  if (seen == taken_generation || seen % 2 != 0) return false;
  copy();
  // Acquire fence: pairs with write_seqlocked's release fence, so that if the copy read
  // anything a newer write stored, the load below sees that write's odd generation (or later).
  std::atomic_thread_fence(std::memory_order_acquire);
  if (generation.load(std::memory_order_relaxed) != seen) return false;  // torn
  taken_generation = seen;
  return true;
}

// A mapped segment. Move-only; unmaps on destruction. Thread: any non-real-time thread
// constructs it; the accessors are RT-safe.
class Segment {
 public:
  // Creates a new segment (fails if the name exists), sizes it, zeroes it and constructs the
  // header and slots. Allocates and makes syscalls. Returns nullopt and sets `error` on failure.
  static std::optional<Segment> create(const std::string& name, std::uint32_t worker_count,
                                       std::uint32_t channels, std::uint32_t ring_frames,
                                       std::uint64_t oscillator_total, std::string& error);

  // Opens an existing segment and checks its header against this build's layout.
  static std::optional<Segment> attach(const std::string& name, std::string& error);

  // The same through a descriptor the coordinator passed down (its segment, after the name is
  // gone: how a restarted worker attaches). `name` is for messages only.
  static std::optional<Segment> attach_descriptor(int descriptor, const std::string& name,
                                                  std::string& error);

  // The coordinator's open descriptor of a segment it created (-1 for an attached one): it
  // keeps the memory reachable for workers started after the name was removed.
  int descriptor() const noexcept;

  // Removes the name from /dev/shm; the mapping stays valid. Returns false (and says why in
  // `error`) when it failed for another reason than "already gone".
  static bool remove_name(const std::string& name, std::string& error);

  SegmentHeader& header() const noexcept { return *static_cast<SegmentHeader*>(base()); }
  WorkerSlot& slot(std::uint32_t worker) const noexcept {
    return reinterpret_cast<WorkerSlot*>(byte(geometry_.slots_offset))[worker];
  }
  float* ring_frames(std::uint32_t worker) const noexcept {
    return reinterpret_cast<float*>(byte(slot(worker).ring_offset));
  }
  SpscRing ring(std::uint32_t worker) const noexcept {
    WorkerSlot& s = slot(worker);
    return SpscRing(s.write_pos, s.read_pos, ring_frames(worker), header().ring_frames,
                    header().channels);
  }
  std::span<double> frequencies_hz() const noexcept {
    return {reinterpret_cast<double*>(byte(geometry_.frequency_table_offset)),
            static_cast<std::size_t>(header().oscillator_total)};
  }
  const SegmentGeometry& geometry() const noexcept { return geometry_; }

  // Thread: control, before the first worker is spawned. What each worker asks for its render
  // thread (SegmentHeader::worker_priority, worker_nice): `worker` as planned, `fallback_nice`
  // when SCHED_FIFO is refused after all.
  void set_worker_scheduling(const ThreadScheduling& worker, int fallback_nice) const noexcept;

  // The reseed hand-over: the control thread publishes a worker's new frequencies in its part
  // of the staging table; the worker copies them out at a block boundary. A seqlock
  // (WorkerSlot::frequency_generation) makes the copy all-or-nothing without either side
  // waiting for the other.
  //
  // Thread: the coordinator's control thread, the only writer. RT-safe (stores only): it never
  // waits for the worker; a copy it overlaps is thrown away by the worker and retried.
  // Returns false, and publishes nothing, when `frequencies_hz` is not one per oscillator of
  // the worker's group.
  bool publish_frequencies(std::uint32_t worker,
                           std::span<const double> frequencies_hz) const noexcept;

  // Thread: the worker's render loop. RT-safe: no allocation, lock or syscall; copies at most
  // its own group. When a complete publication newer than `taken_generation` is there and was
  // not rewritten during the copy, fills `scratch` (one entry per oscillator of the group)
  // with it, sets `taken_generation` and returns true. Otherwise returns false and `scratch`
  // holds nothing usable: nothing new, or the writer was busy (look again next block).
  bool take_published_frequencies(std::uint32_t worker, std::uint64_t& taken_generation,
                                  std::span<double> scratch) const noexcept;

 private:
  Segment(boost::interprocess::mapped_region region, SegmentGeometry geometry,
          std::optional<boost::interprocess::shared_memory_object> memory = std::nullopt)
      : region_(std::move(region)), geometry_(geometry), memory_(std::move(memory)) {}
  static std::optional<Segment> checked(boost::interprocess::mapped_region region,
                                        std::uint64_t mapped_bytes, const std::string& name,
                                        std::string& error);
  void* base() const noexcept { return region_.get_address(); }
  char* byte(std::uint64_t offset) const noexcept { return static_cast<char*>(base()) + offset; }
  // The worker's part of the staging table; only ever accessed through std::atomic_ref.
  double* staged_frequencies(std::uint32_t worker) const noexcept {
    return reinterpret_cast<double*>(byte(geometry_.staging_table_offset)) +
           slot(worker).first_oscillator;
  }

  boost::interprocess::mapped_region region_;
  SegmentGeometry geometry_;
  std::optional<boost::interprocess::shared_memory_object> memory_;  // creator only
};

// Thread: control, after the workers attached. What each worker's render thread got
// (WorkerSlot::scheduling_*), as read back by the worker; in slot order.
AppliedScheduling worker_scheduling(const Segment& segment, std::uint32_t worker);
std::vector<std::string> describe_worker_scheduling(const Segment& segment);

}  // namespace synthfarm
