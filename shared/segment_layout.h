#pragma once
// The shared-memory segment that carries audio from the workers to the coordinator.
//
// A plain, checked struct: no pointers and no std:: containers, only fixed-size fields, byte
// offsets from the start of the segment and lock-free std::atomic integers. The coordinator
// creates and initialises it; each worker attaches, verifies the header and then touches only
// its own slot, its own ring, the read-only frequency table and its part of the staging table.
//
// Cross-process atomics: on Linux x86-64 and aarch64 a lock-free std::atomic is a plain
// instruction on the memory it names (address-free, as [atomics.lockfree] asks of lock-free
// atomics), so the same object mapped into two processes synchronises them. The static_asserts
// below keep that true: a type that needed a hidden lock would not be shared.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "shared/duration_histogram.h"

namespace synthfarm {

static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(std::atomic<std::int32_t>::is_always_lock_free);
static_assert(std::atomic<float>::is_always_lock_free);
// The staging table's entries are plain doubles read and written through std::atomic_ref.
static_assert(std::atomic_ref<double>::is_always_lock_free);

inline constexpr std::uint64_t kSegmentMagic = 0x4d52414648544e59ull;  // "YNTHFARM"
inline constexpr std::uint32_t kLayoutVersion = 8;
inline constexpr std::size_t kCacheLineBytes = 64;
inline constexpr std::uint32_t kMaxWorkers = 256;
inline constexpr std::uint32_t kMaxChannels = 64;
inline constexpr std::uint32_t kMaxBlockFrames = 8192;

// What a worker is allowed to do. Written by the coordinator's mixer (the consumer of the
// ring), so that a worker starts rendering only after the mixer has flushed stale frames.
enum class GrantedState : std::uint32_t { kRender = 0, kStopped = 1 };

// What the control thread asks of a worker; the mixer carries it out at a callback boundary.
enum class RequestedState : std::uint32_t { kPlay = 0, kStop = 1 };

// A shared futex word plus a flag that says somebody sleeps on it, so that the waking side
// makes a syscall only when it is needed (see shared_futex.h for the protocol). Each on a cache
// line of its own: a sleeper's futex word must not share a line with the counters the other side
// writes every period (read_pos, timeline_pos, write_pos), or every wake and every period would
// bounce that line between the cores for nothing.
struct alignas(kCacheLineBytes) WakeWord {
  std::atomic<std::uint32_t> sequence{0};
  std::atomic<std::uint32_t> waiting{0};
};

struct alignas(kCacheLineBytes) SegmentHeader {
  std::uint64_t magic;
  std::uint32_t layout_version;
  std::uint32_t header_bytes;
  std::uint32_t slot_bytes;
  std::uint32_t worker_count;
  std::uint64_t segment_bytes;
  std::uint32_t sample_rate_hz;
  std::uint32_t channels;
  std::uint32_t block_frames;        // frames a worker renders per step (the device buffer)
  std::uint32_t ring_frames;         // ring capacity in frames, a power of two
  std::uint32_t fill_target_frames;  // a worker renders ahead until its ring holds this many
  std::int32_t coordinator_pid;
  std::uint64_t frequency_table_offset;  // bytes; doubles in Hz, all workers' groups in order
  // Bytes; doubles in Hz laid out like the frequency table: where the control thread publishes
  // a worker's new frequencies (FIFO `reseed`) for it to take at a block boundary.
  std::uint64_t staging_table_offset;
  std::uint64_t oscillator_total;
  std::uint32_t kernel;  // KernelKind, chosen by the coordinator
  // 1 for an offline render (--output): no deadline, so the workers neither prefault their
  // stacks nor lock their memory (which costs each one some CPU at start-up for nothing).
  std::uint32_t offline = 0;
  std::int64_t simd_target;  // the Highway target bit every worker must run
  // What each worker asks for its render thread before its loop (shared/realtime_policy.h):
  // SCHED_FIFO at worker_priority when it is above 0, else SCHED_OTHER at worker_nice; a refused
  // SCHED_FIFO also falls back to worker_nice. Set by the coordinator before the first spawn.
  std::int32_t worker_priority = 0;
  std::int32_t worker_nice = 0;

  // Set once by the coordinator when every worker must leave; workers check it on every wake.
  alignas(kCacheLineBytes) std::atomic<std::uint32_t> shutdown{0};
  // Workers bump this after attaching, so the coordinator can sleep until all have.
  WakeWord attach_wake;
};

// One per worker. Fields are grouped by the side that writes them, one cache line per group,
// so the producer's and the consumer's hot counters never share a line.
struct alignas(kCacheLineBytes) WorkerSlot {
  // Written by the coordinator before the worker is spawned; read-only afterwards.
  std::uint64_t ring_offset;  // bytes from the segment start; interleaved float32 frames
  std::uint64_t first_oscillator;
  std::uint32_t oscillator_count;

  // Producer side: written by the worker.
  alignas(kCacheLineBytes) std::atomic<std::uint64_t> write_pos{0};  // frames ever written
  std::atomic<std::int32_t> worker_pid{0};
  std::atomic<std::uint32_t> attached{0};
  // The worker's mlockall(MCL_CURRENT) before it attached: 0 locked, else its errno (0 also in
  // an offline render, which does not lock: SegmentHeader::offline). Published with `attached`.
  std::atomic<std::int32_t> memory_lock_errno{0};
  // What the worker's render thread got when it applied the header's worker_priority/nice
  // (policy as SCHED_*, priority, nice, errno of a refusal or 0). Published with `attached`.
  std::atomic<std::int32_t> scheduling_policy{0};
  std::atomic<std::int32_t> scheduling_priority{0};
  std::atomic<std::int32_t> scheduling_nice{0};
  std::atomic<std::int32_t> scheduling_errno{0};
  WakeWord data_ready;  // an offline consumer sleeps here until frames arrive
  // How long each block took to render and write (one record per block; the coordinator's
  // status and report read it). Segment::create resets it: zeroed memory leaves min_ns at 0.
  DurationHistogram render_time;

  // Consumer side: written by the coordinator's mixer.
  alignas(kCacheLineBytes) std::atomic<std::uint64_t> read_pos{0};  // frames ever consumed
  std::atomic<std::uint32_t> granted_state{0};                      // GrantedState
  WakeWord space_ready;  // the worker sleeps here when its ring is full or it is stopped
  std::atomic<std::uint64_t> underrun_frames{0};   // frames of silence played for this worker
  std::atomic<std::uint64_t> late_blocks{0};       // callbacks in which this worker was short
  std::atomic<std::uint64_t> discarded_frames{0};  // late frames dropped to rejoin the timeline
  // Where the common timeline stands in this worker's frames: read_pos plus the frames the
  // worker still owes (late frames the mixer will drop on arrival). Only grows. A worker renders
  // up to this plus the fill target, so a worker that fell behind catches up as fast as it
  // can render, and one that is not behind never renders more than the fill target ahead.
  std::atomic<std::uint64_t> timeline_pos{0};

  // Control side: written by the coordinator's control thread.
  alignas(kCacheLineBytes) std::atomic<std::uint32_t> requested_state{0};  // RequestedState
  std::atomic<std::uint32_t> exited{0};  // the worker process is gone (set after reaping it)
  // SineLoop parameters (FIFO `set`), set before the spawn and changed at any time. The worker
  // compares them with what it plays at every block boundary and glides or ramps to them
  // (relaxed on both sides: each is a single value with no data behind it).
  std::atomic<float> feedback{0.0f};  // pyo's feedback, clipped to [0, 1] by the kernel
  std::atomic<float> mul{1.0f};       // per-oscillator gain
  // Seqlock over this worker's part of the staging table (Segment::publish_frequencies and
  // take_published_frequencies): odd while the control thread writes it, even otherwise;
  // 0 until the first publication. The control thread never waits; a worker that sees it odd,
  // or changed during its copy, keeps what it plays and looks again at its next block.
  std::atomic<std::uint64_t> frequency_generation{0};
};

static_assert(sizeof(SegmentHeader) % kCacheLineBytes == 0);
static_assert(sizeof(WorkerSlot) % kCacheLineBytes == 0);
static_assert(offsetof(WorkerSlot, write_pos) % kCacheLineBytes == 0);
static_assert(offsetof(WorkerSlot, read_pos) % kCacheLineBytes == 0);
static_assert(offsetof(WorkerSlot, read_pos) - offsetof(WorkerSlot, write_pos) >= kCacheLineBytes);
// The histogram belongs to the producer's group: after write_pos, wholly before read_pos.
static_assert(offsetof(WorkerSlot, render_time) > offsetof(WorkerSlot, write_pos));
static_assert(offsetof(WorkerSlot, render_time) + sizeof(DurationHistogram) <=
              offsetof(WorkerSlot, read_pos));
// The control thread's fields share no line with the mixer's or the worker's hot ones.
static_assert(offsetof(WorkerSlot, requested_state) % kCacheLineBytes == 0);
static_assert(offsetof(WorkerSlot, frequency_generation) > offsetof(WorkerSlot, requested_state));
static_assert(offsetof(WorkerSlot, frequency_generation) % alignof(std::uint64_t) == 0);
// Every futex word alone on its line (the mixer's read_pos and timeline_pos, the worker's
// write_pos are written every period; a futex word beside them would share their traffic).
static_assert(sizeof(WakeWord) == kCacheLineBytes);
static_assert(offsetof(WorkerSlot, data_ready) % kCacheLineBytes == 0);
static_assert(offsetof(WorkerSlot, space_ready) % kCacheLineBytes == 0);
static_assert(offsetof(SegmentHeader, attach_wake) % kCacheLineBytes == 0);

// Where everything lives inside a segment of a given shape. Both sides compute it; a worker
// refuses a segment whose header disagrees with what it computes.
struct SegmentGeometry {
  std::uint64_t slots_offset = 0;
  std::uint64_t rings_offset = 0;
  std::uint64_t ring_bytes = 0;  // per worker, rounded up to a cache line
  std::uint64_t frequency_table_offset = 0;
  std::uint64_t staging_table_offset = 0;  // same size as the frequency table
  std::uint64_t segment_bytes = 0;
};

SegmentGeometry compute_segment_geometry(std::uint32_t worker_count, std::uint32_t channels,
                                         std::uint32_t ring_frames, std::uint64_t oscillator_total);

// Checks a header against this build's layout. Returns an empty string when it matches, or a
// message naming the first field that differs.
std::string check_segment_header(const SegmentHeader& header, std::uint64_t mapped_bytes);

// Thread: any. Pure: reads `mapped` only. The check a worker makes on attach, over the memory
// it mapped (`mapped_bytes` bytes from `mapped`, aligned for SegmentHeader): the header, then
// every worker's slot: its ring where the geometry puts it and its group of oscillators inside
// the frequency table. A segment it accepts is one whose every offset and count the worker
// uses stays inside the mapping. Returns an empty string, or what is wrong.
std::string check_mapped_segment(const void* mapped, std::uint64_t mapped_bytes);

inline bool is_power_of_two(std::uint64_t value) {
  return value && !(value & (value - 1));
}

}  // namespace synthfarm
