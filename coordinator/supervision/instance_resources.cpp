#include "coordinator/supervision/instance_resources.h"

#include <unistd.h>

#include <utility>

namespace synthfarm {

std::unique_ptr<InstanceResources> InstanceResources::acquire(const std::string& instance_name,
                                                              const std::string& control_path,
                                                              std::string& notice,
                                                              std::string& error) {
  auto lock = InstanceLock::acquire(instance_name, error);
  if (!lock) return nullptr;
  // With the lock held, what carries this instance's name and a dead pid is a dead one's.
  notice += reclaim_stale_segments(instance_name);
  if (!reclaim_stale_fifo(control_path, notice, error)) return nullptr;
  return std::unique_ptr<InstanceResources>(new InstanceResources(
      std::move(lock), segment_name_for(instance_name, getpid()), control_path));
}

InstanceResources::InstanceResources(std::unique_ptr<InstanceLock> lock, std::string segment_name,
                                     std::string control_path)
    : lock_(std::move(lock)),
      segment_name_{std::move(segment_name)},
      control_path_(std::move(control_path)) {}

InstanceResources::~InstanceResources() {
  release_names();
  // The members go in reverse of their declaration: the lock last.
}

void InstanceResources::release_names() noexcept {
  fifo_.reset();  // closes and removes the FIFO
  segment_name_.release();
}

InstanceResources::OwnedSegmentName::~OwnedSegmentName() {
  release();
}

void InstanceResources::OwnedSegmentName::release() noexcept {
  if (!owned) return;
  owned = false;
  std::string ignored;  // nothing to tell at exit: the name is gone or was never there
  Segment::remove_name(name, ignored);
}

std::optional<Segment> InstanceResources::create_segment(std::uint32_t worker_count,
                                                         std::uint32_t channels,
                                                         std::uint32_t ring_frames,
                                                         std::uint64_t oscillator_total,
                                                         std::string& error) {
  auto segment = Segment::create(segment_name_.name, worker_count, channels, ring_frames,
                                 oscillator_total, error);
  if (segment) segment_name_.owned = true;
  return segment;
}

bool InstanceResources::remove_segment_name(std::string& error) {
  if (!Segment::remove_name(segment_name_.name, error)) return false;
  segment_name_.owned = false;
  return true;
}

bool InstanceResources::create_fifo(std::string& error) {
  fifo_ = ControlFifo::create(control_path_, error);
  return fifo_ != nullptr;
}

}  // namespace synthfarm
