#pragma once
// Counting the global allocation functions in a test binary, to prove that real-time code
// (the audio callback, the recorder's on_mixed) allocates nothing.
//
// What is counted, in a binary that compiles allocation_counter.cpp in (only the tests that
// need it: it replaces the allocator):
//  - every replaceable operator new and operator delete (plain, array, aligned, nothrow, sized);
//  - the C allocator (malloc, calloc, realloc, free, aligned_alloc, posix_memalign, memalign,
//    valloc, pvalloc), by defining those functions and forwarding them to glibc's own exported
//    implementations (__libc_malloc and friends, which glibc exports for exactly this kind of
//    wrapper; the malloc hooks are gone since glibc 2.34). This catches allocations that bypass
//    operator new: strdup, std::aligned_alloc, libraries written in C, Highway's allocator.
//    Under AddressSanitizer, ThreadSanitizer or MemorySanitizer the runtime interposes malloc
//    itself and a second definition would break its bookkeeping, so there only operator
//    new/delete are counted (malloc_is_counted() says so, and the tests that need it skip).
// operator new is implemented with malloc, so an operator new counts in both counters.

#include <cstdint>
#include <ostream>

namespace synthfarm::testing {

struct AllocationCounts {
  std::uint64_t operator_new = 0;
  std::uint64_t operator_delete = 0;
  std::uint64_t malloc_family = 0;  // malloc, calloc, realloc, aligned, valloc...
  std::uint64_t free = 0;

  AllocationCounts& operator+=(const AllocationCounts& more);
  std::uint64_t total() const { return operator_new + operator_delete + malloc_family + free; }
};

std::ostream& operator<<(std::ostream& out, const AllocationCounts& counts);

// Whose allocations count: every thread's (the mixer must not start threads either), or only
// the calling thread's (the recorder's writer thread may allocate while on_mixed is counted).
enum class CountedThreads { kEvery, kCalling };

// False in a sanitizer build: the C allocator is not replaced, only operator new/delete are.
bool malloc_is_counted() noexcept;

// One counted region at a time. Seq_cst: the flags must not move across the calls they bracket
// (the calls are opaque anyway; this keeps it so under LTO).
void begin_counting(CountedThreads threads) noexcept;
AllocationCounts end_counting() noexcept;

// What `run` allocates and frees.
template <typename Run>
AllocationCounts count_allocations(Run&& run, CountedThreads threads = CountedThreads::kEvery) {
  begin_counting(threads);
  run();
  return end_counting();
}

// Keeps the compiler from removing an allocation whose result is unused (it may elide a
// malloc/free or new/delete pair).
inline void escape(void* pointer) {
  asm volatile("" : : "g"(pointer) : "memory");
}

}  // namespace synthfarm::testing
