#include "coordinator/control/fifo_ownership.h"

#include <unistd.h>

namespace synthfarm {

FifoOwnership fifo_ownership(const struct stat& status) noexcept {
  if (!S_ISFIFO(status.st_mode)) return FifoOwnership::kNotAFifo;
  return status.st_uid == geteuid() ? FifoOwnership::kOwnFifo : FifoOwnership::kOtherUsersFifo;
}

FifoOwnership opened_fifo_ownership(int fd, uid_t& owner) noexcept {
  struct stat status {};
  if (fstat(fd, &status) != 0) return FifoOwnership::kNotAFifo;
  owner = status.st_uid;
  return fifo_ownership(status);
}

}  // namespace synthfarm
