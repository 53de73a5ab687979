#include "shared/shared_futex.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

namespace synthfarm {

// The futex word must be a plain 32-bit integer at the atomic's address.
static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));

bool futex_wait_shared(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                       std::chrono::nanoseconds timeout) noexcept {
  const auto total_ns = timeout.count() < 0 ? 0 : timeout.count();
  timespec relative{static_cast<time_t>(total_ns / 1'000'000'000),
                    static_cast<long>(total_ns % 1'000'000'000)};
  // FUTEX_WAIT without FUTEX_PRIVATE_FLAG: the kernel keys the word by its physical page, so a
  // waker in another process that maps the same segment finds us.
  const long result = syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT,
                              expected, &relative, nullptr, 0);
  return !(result == -1 && errno == ETIMEDOUT);
}

void futex_wake_shared(std::atomic<std::uint32_t>& word) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE, INT_MAX, nullptr, nullptr,
          0);
}

}  // namespace synthfarm
