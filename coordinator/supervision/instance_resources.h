#pragma once
// What makes an instance an instance, apart from its processes: the lock on its name, the
// segment's name in /dev/shm, and the control FIFO, taken in that order (after clearing what
// dead instances left) and released in reverse, on every path: an early failure, a normal
// exit, an exception. So a run leaves no /dev/shm entry and no FIFO behind, and the lock is
// the last thing it lets go of: a new instance of the same name finds everything clean.

#include <memory>
#include <optional>
#include <string>

#include "coordinator/control/control_fifo.h"
#include "coordinator/supervision/instance_lock.h"
#include "shared/segment.h"

namespace synthfarm {

class InstanceResources {
 public:
  // Thread: main, before any other. Takes the lock for `instance_name`, removes segments of
  // dead coordinators and a stale FIFO at `control_path` (which the lock makes a dead
  // instance's). Lines saying what was removed are appended to `notice`. Returns nullptr with
  // `error` when another instance holds the name or the path holds something not a FIFO;
  // whatever was taken is released by then.
  static std::unique_ptr<InstanceResources> acquire(const std::string& instance_name,
                                                    const std::string& control_path,
                                                    std::string& notice, std::string& error);

  // Thread: control. Releases in reverse: release_names(), then the lock. Never fails.
  ~InstanceResources();
  InstanceResources(const InstanceResources&) = delete;
  InstanceResources& operator=(const InstanceResources&) = delete;

  // Thread: control. The segment's name in /dev/shm: synthfarm-<instance name>-<pid>.
  const std::string& segment_name() const noexcept { return segment_name_.name; }

  // Thread: control. Creates the segment under segment_name() (Segment::create); from then on
  // the name is this object's to remove. The mapping is the caller's.
  std::optional<Segment> create_segment(std::uint32_t worker_count, std::uint32_t channels,
                                        std::uint32_t ring_frames, std::uint64_t oscillator_total,
                                        std::string& error);

  // Thread: control. Removes the segment's name once every worker holds its mapping, so that
  // even a crash leaves nothing in /dev/shm. False with `error` when that failed.
  bool remove_segment_name(std::string& error);

  // Thread: control. Creates the control FIFO at the path given to acquire().
  bool create_fifo(std::string& error);
  // Thread: control. After create_fifo succeeded, until release_names().
  ControlFifo& fifo() noexcept { return *fifo_; }

  // Thread: control. Removes the FIFO, then the segment's name if it is still there; keeps the
  // lock, which the destructor lets go of: the process still runs (it writes its report) and
  // a second instance of its name would be told so. Idempotent.
  void release_names() noexcept;

 private:
  // A name in /dev/shm that is ours to remove while `owned`.
  struct OwnedSegmentName {
    std::string name;
    bool owned = false;
    ~OwnedSegmentName();
    void release() noexcept;  // removes the name if owned
  };

  InstanceResources(std::unique_ptr<InstanceLock> lock, std::string segment_name,
                    std::string control_path);

  // Declared in the order taken: members are destroyed in reverse, which is the release order.
  std::unique_ptr<InstanceLock> lock_;
  OwnedSegmentName segment_name_;
  std::string control_path_;
  std::unique_ptr<ControlFifo> fifo_;
};

}  // namespace synthfarm
