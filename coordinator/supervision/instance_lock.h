#pragma once
// One running instance per name, and clean-up of what dead instances left behind.
//
// The lock is a listening Unix socket in the abstract namespace: the kernel releases it when
// its owner dies, however it dies, and it leaves no file behind.

#include <sys/types.h>

#include <memory>
#include <string>

namespace synthfarm {

class InstanceLock {
 public:
  // Returns nullptr and an error naming the owner's pid when `name` is taken.
  static std::unique_ptr<InstanceLock> acquire(const std::string& name, std::string& error);
  ~InstanceLock();
  InstanceLock(const InstanceLock&) = delete;
  InstanceLock& operator=(const InstanceLock&) = delete;

 private:
  explicit InstanceLock(int fd) : fd_(fd) {}
  int fd_;
};

// The segment name for an instance: synthfarm-<name>-<pid>.
std::string segment_name_for(const std::string& instance_name, pid_t coordinator_pid);

// Removes /dev/shm/synthfarm-*-<pid> segments whose coordinator is dead (never a live one's).
// Returns one line per removal, for the start-up report.
std::string reclaim_stale_segments();

// With the lock held, anything at the FIFO path is a dead instance's: removes it if it is a
// FIFO and adds a line saying so to `notice`. Returns false (with `error`) if the path holds
// something else.
bool reclaim_stale_fifo(const std::string& path, std::string& notice, std::string& error);

}  // namespace synthfarm
