#pragma once
// Creating (coordinator) and attaching to (worker) the shared-memory segment through
// Boost.Interprocess. The segment's name is removed as soon as every worker has attached, so
// that a crash leaves nothing behind in /dev/shm.

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "shared/segment_layout.h"
#include "shared/spsc_ring.h"

namespace synthfarm {

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

 private:
  Segment(boost::interprocess::mapped_region region, SegmentGeometry geometry,
          std::optional<boost::interprocess::shared_memory_object> memory = std::nullopt)
      : region_(std::move(region)), geometry_(geometry), memory_(std::move(memory)) {}
  static std::optional<Segment> checked(boost::interprocess::mapped_region region,
                                        std::uint64_t mapped_bytes, const std::string& name,
                                        std::string& error);
  void* base() const noexcept { return region_.get_address(); }
  char* byte(std::uint64_t offset) const noexcept { return static_cast<char*>(base()) + offset; }

  boost::interprocess::mapped_region region_;
  SegmentGeometry geometry_;
  std::optional<boost::interprocess::shared_memory_object> memory_;  // creator only
};

}  // namespace synthfarm
