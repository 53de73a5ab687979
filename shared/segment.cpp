#include "shared/segment.h"

#include <boost/interprocess/exceptions.hpp>
#include <boost/interprocess/shared_memory_object.hpp>

#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <new>

namespace synthfarm {

namespace bip = boost::interprocess;

std::optional<Segment> Segment::create(const std::string& name, std::uint32_t worker_count,
                                       std::uint32_t channels, std::uint32_t ring_frames,
                                       std::uint64_t oscillator_total, std::string& error) {
  const SegmentGeometry geometry =
      compute_segment_geometry(worker_count, channels, ring_frames, oscillator_total);
  try {
    // Owner only: until the name is removed, anyone who may open it may map the run's audio,
    // pids and counters (Boost's default is 0644).
    bip::permissions owner_only;
    owner_only.set_permissions(0600);
    bip::shared_memory_object memory(bip::create_only, name.c_str(), bip::read_write, owner_only);
    try {
      memory.truncate(static_cast<bip::offset_t>(geometry.segment_bytes));
      bip::mapped_region region(memory, bip::read_write);
      // A fresh shm object reads as zeroes; the placement-news give the atomics their lives.
      std::memset(region.get_address(), 0, geometry.segment_bytes);
      auto* header = new (region.get_address()) SegmentHeader{};
      header->magic = kSegmentMagic;
      header->layout_version = kLayoutVersion;
      header->header_bytes = sizeof(SegmentHeader);
      header->slot_bytes = sizeof(WorkerSlot);
      header->worker_count = worker_count;
      header->segment_bytes = geometry.segment_bytes;
      header->channels = channels;
      header->ring_frames = ring_frames;
      header->frequency_table_offset = geometry.frequency_table_offset;
      header->staging_table_offset = geometry.staging_table_offset;
      header->oscillator_total = oscillator_total;
      char* base = static_cast<char*>(region.get_address());
      for (std::uint32_t w = 0; w < worker_count; ++w) {
        auto* slot = new (base + geometry.slots_offset + w * sizeof(WorkerSlot)) WorkerSlot{};
        slot->ring_offset = geometry.rings_offset + w * geometry.ring_bytes;
        slot->render_time.reset();
      }
      return Segment(std::move(region), geometry, std::move(memory));
    } catch (...) {
      bip::shared_memory_object::remove(name.c_str());
      throw;
    }
  } catch (const bip::interprocess_exception& e) {
    error = "cannot create shared memory segment /dev/shm/" + name + ": " + e.what() +
            (e.get_error_code() == bip::already_exists_error
                 ? " (it already exists; is another synthfarm starting with the same name?)"
                 : " (is /dev/shm mounted and large enough? see `df -h /dev/shm`)");
    return std::nullopt;
  }
}

std::optional<Segment> Segment::attach(const std::string& name, std::string& error) {
  try {
    bip::shared_memory_object memory(bip::open_only, name.c_str(), bip::read_write);
    bip::offset_t size = 0;
    memory.get_size(size);
    return checked(bip::mapped_region(memory, bip::read_write), static_cast<std::uint64_t>(size),
                   name, error);
  } catch (const bip::interprocess_exception& e) {
    error = "cannot attach to shared memory segment /dev/shm/" + name + ": " + e.what();
    return std::nullopt;
  }
}

namespace {

// What mapped_region needs of a mappable object, for a descriptor inherited from the parent.
class InheritedDescriptor {
 public:
  explicit InheritedDescriptor(int descriptor) : descriptor_(descriptor) {}
  bip::mapping_handle_t get_mapping_handle() const noexcept {
    return bip::ipcdetail::mapping_handle_from_file_handle(descriptor_);
  }

 private:
  int descriptor_;
};

}  // namespace

std::optional<Segment> Segment::attach_descriptor(int descriptor, const std::string& name,
                                                  std::string& error) {
  struct stat status {};
  if (fstat(descriptor, &status) != 0) {
    error = "shared memory segment " + name + ": descriptor " + std::to_string(descriptor) +
            " is not open (" + std::strerror(errno) + ")";
    return std::nullopt;
  }
  try {
    return checked(bip::mapped_region(InheritedDescriptor(descriptor), bip::read_write),
                   static_cast<std::uint64_t>(status.st_size), name, error);
  } catch (const bip::interprocess_exception& e) {
    error = "cannot map shared memory segment " + name + " from descriptor " +
            std::to_string(descriptor) + ": " + e.what();
    return std::nullopt;
  }
}

std::optional<Segment> Segment::checked(bip::mapped_region region, std::uint64_t mapped_bytes,
                                        const std::string& name, std::string& error) {
  const std::string mismatch = check_mapped_segment(region.get_address(), mapped_bytes);
  if (!mismatch.empty()) {
    error = "shared memory segment " + name + ": " + mismatch;
    return std::nullopt;
  }
  const auto& header = *static_cast<const SegmentHeader*>(region.get_address());
  const SegmentGeometry geometry = compute_segment_geometry(
      header.worker_count, header.channels, header.ring_frames, header.oscillator_total);
  return Segment(std::move(region), geometry);
}

bool Segment::publish_frequencies(std::uint32_t worker,
                                  std::span<const double> frequencies_hz) const noexcept {
  WorkerSlot& s = slot(worker);
  if (frequencies_hz.size() != s.oscillator_count) return false;
  double* staged = staged_frequencies(worker);
  write_seqlocked(s.frequency_generation, [&] {
    for (std::size_t k = 0; k < frequencies_hz.size(); ++k) {
      std::atomic_ref<double>(staged[k]).store(frequencies_hz[k], std::memory_order_relaxed);
    }
  });
  return true;
}

bool Segment::take_published_frequencies(std::uint32_t worker, std::uint64_t& taken_generation,
                                         std::span<double> scratch) const noexcept {
  const WorkerSlot& s = slot(worker);
  if (scratch.size() != s.oscillator_count) return false;
  double* staged = staged_frequencies(worker);
  return read_seqlocked(s.frequency_generation, taken_generation, [&] {
    for (std::size_t k = 0; k < scratch.size(); ++k) {
      scratch[k] = std::atomic_ref<double>(staged[k]).load(std::memory_order_relaxed);
    }
  });
}

int Segment::descriptor() const noexcept {
  return memory_ ? memory_->get_mapping_handle().handle : -1;
}

bool Segment::remove_name(const std::string& name, std::string& error) {
  // Boost's remove() hides errno; ENOENT (already removed) is what we expect after a crash.
  if (bip::shared_memory_object::remove(name.c_str())) return true;
  error = "cannot remove shared memory segment /dev/shm/" + name;
  return false;
}

void Segment::set_worker_scheduling(const ThreadScheduling& worker,
                                    int fallback_nice) const noexcept {
  header().worker_priority = worker.realtime ? worker.priority : 0;
  header().worker_nice = worker.realtime ? fallback_nice : worker.nice;
}

AppliedScheduling worker_scheduling(const Segment& segment, std::uint32_t worker) {
  const WorkerSlot& slot = segment.slot(worker);
  // Relaxed: published with `attached` (release), which the caller has acquired.
  return AppliedScheduling{slot.scheduling_policy.load(std::memory_order_relaxed),
                           slot.scheduling_priority.load(std::memory_order_relaxed),
                           slot.scheduling_nice.load(std::memory_order_relaxed),
                           slot.scheduling_errno.load(std::memory_order_relaxed)};
}

std::vector<std::string> describe_worker_scheduling(const Segment& segment) {
  std::vector<std::string> lines;
  for (std::uint32_t w = 0; w < segment.header().worker_count; ++w) {
    lines.push_back(describe_applied_scheduling(worker_scheduling(segment, w)));
  }
  return lines;
}

}  // namespace synthfarm
