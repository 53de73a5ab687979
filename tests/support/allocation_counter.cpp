#include "tests/support/allocation_counter.h"

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SYNTHFARM_COUNT_MALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define SYNTHFARM_COUNT_MALLOC 0
#endif
#endif
#ifndef SYNTHFARM_COUNT_MALLOC
#define SYNTHFARM_COUNT_MALLOC 1
#endif

// ---------------------------------------------------------------------------------------------
// The counters: global atomics, armed for every thread or for one (a thread-local flag).

namespace {

struct AllocationCounters {
  std::atomic<bool> armed_for_every_thread{false};
  std::atomic<std::uint64_t> operator_new{0};
  std::atomic<std::uint64_t> operator_delete{0};
  std::atomic<std::uint64_t> malloc_family{0};
  std::atomic<std::uint64_t> free{0};
};

// Constant-initialised (no constructor runs), so they are usable by allocations made before
// main and by threads that start and end at any time.
constinit AllocationCounters g_counters;
constinit thread_local bool t_armed_for_this_thread = false;

inline void count(std::atomic<std::uint64_t>& counter) noexcept {
  if (t_armed_for_this_thread ||
      g_counters.armed_for_every_thread.load(std::memory_order_relaxed)) {
    counter.fetch_add(1, std::memory_order_relaxed);
  }
}

synthfarm::testing::AllocationCounts snapshot() noexcept {
  return {g_counters.operator_new.load(), g_counters.operator_delete.load(),
          g_counters.malloc_family.load(), g_counters.free.load()};
}

synthfarm::testing::AllocationCounts g_before;  // begin_counting's snapshot

}  // namespace

#if SYNTHFARM_COUNT_MALLOC
extern "C" {
// glibc's own allocator under its exported internal names (GLIBC_2.2.5 symbols).
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* memory, std::size_t size);
void* __libc_memalign(std::size_t alignment, std::size_t size);
void* __libc_valloc(std::size_t size);
void* __libc_pvalloc(std::size_t size);
void __libc_free(void* memory);

// Every allocating entry point is replaced, so that each block comes from and goes back to the
// same glibc heap whichever function allocated it (glibc manual, "Replacing malloc").
void* malloc(std::size_t size) noexcept {
  count(g_counters.malloc_family);
  return __libc_malloc(size);
}
void* calloc(std::size_t count_of, std::size_t size) noexcept {
  count(g_counters.malloc_family);
  return __libc_calloc(count_of, size);
}
void* realloc(void* memory, std::size_t size) noexcept {
  count(g_counters.malloc_family);
  return __libc_realloc(memory, size);
}
void* memalign(std::size_t alignment, std::size_t size) noexcept {
  count(g_counters.malloc_family);
  return __libc_memalign(alignment, size);
}
void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
  count(g_counters.malloc_family);
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** memory, std::size_t alignment, std::size_t size) noexcept {
  count(g_counters.malloc_family);
  if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
  void* result = __libc_memalign(alignment, size);
  if (!result) return ENOMEM;
  *memory = result;
  return 0;
}
void* valloc(std::size_t size) noexcept {
  count(g_counters.malloc_family);
  return __libc_valloc(size);
}
void* pvalloc(std::size_t size) noexcept {
  count(g_counters.malloc_family);
  return __libc_pvalloc(size);
}
void free(void* memory) noexcept {
  if (memory) count(g_counters.free);
  __libc_free(memory);
}
}  // extern "C"
#endif

namespace {

void* counted_new(std::size_t size, std::size_t alignment) {
  count(g_counters.operator_new);
  size = std::max<std::size_t>(size, 1);
  return alignment <= alignof(std::max_align_t)
             ? std::malloc(size)
             : std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
}

// Out of line: GCC would otherwise inline free() into each delete-expression and warn that it
// frees memory from operator new, not knowing that this operator new is malloc.
[[gnu::noinline]] void counted_delete(void* memory) noexcept {
  if (memory) count(g_counters.operator_delete);
  std::free(memory);
}

}  // namespace

void* operator new(std::size_t size) {
  if (void* memory = counted_new(size, 0)) return memory;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* memory = counted_new(size, 0)) return memory;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, std::align_val_t alignment) {
  if (void* memory = counted_new(size, static_cast<std::size_t>(alignment))) return memory;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
  if (void* memory = counted_new(size, static_cast<std::size_t>(alignment))) return memory;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return counted_new(size, 0);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return counted_new(size, 0);
}
void* operator new(std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return counted_new(size, static_cast<std::size_t>(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return counted_new(size, static_cast<std::size_t>(alignment));
}
void operator delete(void* memory) noexcept {
  counted_delete(memory);
}
void operator delete[](void* memory) noexcept {
  counted_delete(memory);
}
void operator delete(void* memory, std::size_t) noexcept {
  counted_delete(memory);
}
void operator delete[](void* memory, std::size_t) noexcept {
  counted_delete(memory);
}
void operator delete(void* memory, std::align_val_t) noexcept {
  counted_delete(memory);
}
void operator delete[](void* memory, std::align_val_t) noexcept {
  counted_delete(memory);
}
void operator delete(void* memory, std::size_t, std::align_val_t) noexcept {
  counted_delete(memory);
}
void operator delete[](void* memory, std::size_t, std::align_val_t) noexcept {
  counted_delete(memory);
}
void operator delete(void* memory, const std::nothrow_t&) noexcept {
  counted_delete(memory);
}
void operator delete[](void* memory, const std::nothrow_t&) noexcept {
  counted_delete(memory);
}
void operator delete(void* memory, std::align_val_t, const std::nothrow_t&) noexcept {
  counted_delete(memory);
}
void operator delete[](void* memory, std::align_val_t, const std::nothrow_t&) noexcept {
  counted_delete(memory);
}

namespace synthfarm::testing {

AllocationCounts& AllocationCounts::operator+=(const AllocationCounts& more) {
  operator_new += more.operator_new;
  operator_delete += more.operator_delete;
  malloc_family += more.malloc_family;
  free += more.free;
  return *this;
}

std::ostream& operator<<(std::ostream& out, const AllocationCounts& counts) {
  return out << "operator new " << counts.operator_new << ", operator delete "
             << counts.operator_delete << ", malloc family " << counts.malloc_family << ", free "
             << counts.free;
}

bool malloc_is_counted() noexcept {
  return SYNTHFARM_COUNT_MALLOC != 0;
}

void begin_counting(CountedThreads threads) noexcept {
  g_before = snapshot();
  if (threads == CountedThreads::kEvery) {
    g_counters.armed_for_every_thread.store(true, std::memory_order_seq_cst);
  } else {
    t_armed_for_this_thread = true;
    std::atomic_signal_fence(std::memory_order_seq_cst);  // keeps the calls inside the flag
  }
}

AllocationCounts end_counting() noexcept {
  std::atomic_signal_fence(std::memory_order_seq_cst);
  t_armed_for_this_thread = false;
  g_counters.armed_for_every_thread.store(false, std::memory_order_seq_cst);
  const AllocationCounts now = snapshot();
  return {now.operator_new - g_before.operator_new, now.operator_delete - g_before.operator_delete,
          now.malloc_family - g_before.malloc_family, now.free - g_before.free};
}

}  // namespace synthfarm::testing
