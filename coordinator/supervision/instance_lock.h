#pragma once
// One running instance per name, and clean-up of what dead instances left behind.
//
// The lock is an flock on NAME.lock in a private directory of this user (mode 0700, checked):
// no other user can take it or put anything in its way, and the kernel releases it when its
// owner dies, however it dies. The holder writes its pid into the file, so that a refused
// start can name it.

#include <sys/types.h>

#include <memory>
#include <string>

namespace synthfarm {

// Thread: control. Creates `path` with mode 0700 if it is missing, then checks with lstat that
// it is a directory (not a link to one), owned by this user, of mode 0700: nobody else can
// put, replace or remove anything in it. False with `error` naming the path and the fix.
bool ensure_private_directory(const std::string& path, std::string& error);

class InstanceLock {
 public:
  // Thread: control. Takes the lock on `name` in default_runtime_directory() (created and
  // checked first). Returns nullptr and an error naming the holder's pid when `name` is taken.
  static std::unique_ptr<InstanceLock> acquire(const std::string& name, std::string& error);
  // Thread: control. Removes the lock file, then lets go of the lock, then removes the private
  // directory if nothing else is left in it.
  ~InstanceLock();
  InstanceLock(const InstanceLock&) = delete;
  InstanceLock& operator=(const InstanceLock&) = delete;

  const std::string& path() const noexcept { return path_; }

 private:
  InstanceLock(int fd, std::string path, std::string directory)
      : fd_(fd), path_(std::move(path)), directory_(std::move(directory)) {}
  int fd_;
  std::string path_;
  std::string directory_;  // the private directory, removed at exit when empty
};

// The segment name for an instance: synthfarm-<name>-<pid>.
std::string segment_name_for(const std::string& instance_name, pid_t coordinator_pid);

// Thread: control, with the lock on `instance_name` held. Removes this user's /dev/shm entries
// of that instance (synthfarm-<instance_name>-<pid>), whatever their pid: none can be a live
// run's, and a pid reused after a restart must not keep one for ever. Of other names, removes
// only this user's entries whose coordinator is dead. Never touches another user's entry.
// Returns one line per removal, for the start-up report.
std::string reclaim_stale_segments(const std::string& instance_name);

// Thread: control. Removes a dead instance's FIFO at the control path, adding a line saying so
// to `notice`. A FIFO with a reader belongs to a live instance (maybe of another name sharing
// the path): false with `error` naming its holder, nothing removed. False too when the path
// holds something else, or another user's FIFO.
bool reclaim_stale_fifo(const std::string& path, std::string& notice, std::string& error);

}  // namespace synthfarm
