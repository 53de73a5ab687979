#pragma once
// Whether a FIFO may carry the control protocol: it must be a FIFO, and one of this process's
// effective user. Both sides ask it of what they opened (a path can be swapped between a
// check and an open), ctl also of the control FIFO's path before it creates anything.
// A FIFO of another user may be that user's trap: whoever owns it reads what is written.

#include <sys/stat.h>
#include <sys/types.h>

namespace synthfarm {

enum class FifoOwnership {
  kOwnFifo,        // a FIFO of this user: safe to talk through
  kNotAFifo,       // a file of another kind, or one that could not be examined
  kOtherUsersFifo  // a FIFO, but `owner` is not this user
};

// Thread: any. Pure but for geteuid(). `status` as from stat, lstat or fstat.
FifoOwnership fifo_ownership(const struct stat& status) noexcept;

// Thread: any. fstat(fd), then fifo_ownership(); kNotAFifo when fstat fails. `owner` receives
// the file's owner whenever fstat succeeded.
FifoOwnership opened_fifo_ownership(int fd, uid_t& owner) noexcept;

}  // namespace synthfarm
