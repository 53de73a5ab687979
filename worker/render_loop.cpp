#include "worker/render_loop.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "shared/realtime_counters.h"
#include "shared/realtime_policy.h"
#include "shared/realtime_setup.h"
#include "shared/segment.h"
#include "shared/shared_futex.h"
#include "worker/fault_injection.h"
#include "worker/oscillator_bank.h"
#include "worker/parameter_changes.h"
#include "worker/parent_watch.h"

namespace synthfarm {
namespace {

// How long a worker sleeps before it looks at its parent and the shutdown flag again, when
// nobody wakes it. Not a poll of the ring: ring space and commands always wake it at once.
constexpr std::chrono::milliseconds kIdleRecheck{100};

enum class LoopEnd { kShutdown, kParentGone };

// Thread: the worker's only thread. RT discipline: everything is allocated before the loop;
// inside it only rendering, atomics and futex sleeps. `fault` is the test-only fault switch,
// read from the environment before the loop (off in normal runs).
LoopEnd render_until_shutdown(const Segment& segment, std::uint32_t index, pid_t coordinator_pid,
                              OscillatorBank& group, ParameterChanges& changes,
                              std::vector<float>& block_buffer, FaultInjector& fault) {
  SegmentHeader& header = segment.header();
  WorkerSlot& slot = segment.slot(index);
  SpscRing ring = segment.ring(index);
  const std::uint32_t block_frames = header.block_frames;
  const std::uint32_t fill_target = header.fill_target_frames;
  const std::size_t block_samples = std::size_t{block_frames} * header.channels;

  // Acquire pairs with the coordinator's release stores of these flags.
  const auto shutdown = [&] { return header.shutdown.load(std::memory_order_acquire) != 0; };
  const auto stopped = [&] {
    return slot.granted_state.load(std::memory_order_acquire) ==
           static_cast<std::uint32_t>(GrantedState::kStopped);
  };

  // A block is due while it ends within fill_target frames of the timeline (the mixer's
  // timeline_pos, which includes the frames this worker owes after falling behind: those are
  // dropped on arrival, so a late worker renders flat out until it is back) and fits the ring.
  const auto block_due = [&] {
    const std::uint64_t written = slot.write_pos.load(std::memory_order_relaxed);  // ours
    // Acquire pairs with the mixer's release of timeline_pos.
    const std::uint64_t due_until = slot.timeline_pos.load(std::memory_order_acquire) + fill_target;
    return written + block_frames <= due_until &&
           ring.filled_frames_for_producer() + block_frames <= ring.capacity_frames();
  };

  while (!shutdown()) {
    if (stopped()) {
      // A stopped worker costs no CPU: it sleeps until the mixer grants rendering again.
      bool idle = false;
      sleep_until_ready(
          slot.space_ready, [&] { return shutdown() || !stopped(); }, kIdleRecheck, &idle);
      // Only when nobody woke us for kIdleRecheck: no syscall per wake (the parent death signal
      // is the first line of defence; this catches a coordinator that died before it was armed).
      if (idle && !coordinator_alive(coordinator_pid)) return LoopEnd::kParentGone;
      continue;
    }
    if (!block_due()) {
      bool idle = false;
      sleep_until_ready(
          slot.space_ready, [&] { return shutdown() || stopped() || block_due(); }, kIdleRecheck,
          &idle);
      if (idle && !coordinator_alive(coordinator_pid)) return LoopEnd::kParentGone;
      continue;
    }
    // Parameters and frequencies change only between blocks, smoothly (parameter_changes.h).
    changes.apply_at_block_boundary(group);

    const std::uint64_t started_ns = monotonic_ns();
    group.render(block_buffer.data(), block_frames);
    fault.apply(block_buffer.data(), block_samples);  // test only; one branch when off
    ring.write(block_buffer.data(), block_frames);
    const std::uint64_t elapsed_ns = monotonic_ns() - started_ns;
    slot.render_time.record(elapsed_ns);
    notify_sleeper(slot.data_ready);
  }
  return LoopEnd::kShutdown;
}

}  // namespace

int run_worker(const WorkerArguments& arguments) {
  const std::string who = "synthfarm-worker " + std::to_string(arguments.worker_index) + " (pid " +
                          std::to_string(getpid()) + ")";
  if (!arm_parent_death_signal(arguments.coordinator_pid)) {
    std::fprintf(stderr, "%s: coordinator (pid %d) is not my parent or is gone; leaving\n",
                 who.c_str(), arguments.coordinator_pid);
    return 1;
  }
  std::string error;
  std::optional<Segment> segment =
      arguments.segment_descriptor >= 0
          ? Segment::attach_descriptor(arguments.segment_descriptor, arguments.segment_name, error)
          : Segment::attach(arguments.segment_name, error);
  if (!segment) {
    std::fprintf(stderr, "%s: %s\n", who.c_str(), error.c_str());
    return 1;
  }
  const SegmentHeader& header = segment->header();
  if (header.coordinator_pid != arguments.coordinator_pid) {
    std::fprintf(stderr, "%s: segment %s belongs to pid %d, not to my coordinator %d\n",
                 who.c_str(), arguments.segment_name.c_str(), header.coordinator_pid,
                 arguments.coordinator_pid);
    return 1;
  }
  if (arguments.worker_index >= header.worker_count) {
    std::fprintf(stderr, "%s: index %u is past the segment's %u workers\n", who.c_str(),
                 arguments.worker_index, header.worker_count);
    return 1;
  }
  const auto simd = simd_target_from_highway(header.simd_target);
  const std::vector<SimdTarget> usable_targets = usable_simd_targets();
  const bool usable = simd && std::find(usable_targets.begin(), usable_targets.end(), *simd) !=
                                  usable_targets.end();
  if (!usable || header.kernel > static_cast<std::uint32_t>(KernelKind::kFast)) {
    std::fprintf(stderr,
                 "%s: this build or CPU cannot run the coordinator's kernel %u on SIMD "
                 "target 0x%llx; are synthfarm and synthfarm-worker from the same build?\n",
                 who.c_str(), header.kernel, static_cast<unsigned long long>(header.simd_target));
    return 1;
  }
  // Test only (fault_injection.h): read once here, never in the render loop.
  auto parsed_fault =
      parse_test_fault(std::getenv(kTestFaultEnvironmentVariable), arguments.worker_index);
  if (auto* message = std::get_if<std::string>(&parsed_fault)) {
    std::fprintf(stderr, "%s: %s\n", who.c_str(), message->c_str());
    return 1;
  }
  FaultInjector fault = std::get<FaultInjector>(parsed_fault);
  if (fault.enabled()) {
    std::fprintf(stderr, "%s: %s\n", who.c_str(), describe_test_fault(fault).c_str());
  }
  // Denormals would put a decaying oscillator on the CPU's slow path; nothing audible is lost.
  enable_flush_to_zero();
  WorkerSlot& slot = segment->slot(arguments.worker_index);
  const auto frequencies =
      segment->frequencies_hz().subspan(slot.first_oscillator, slot.oscillator_count);
  ParameterChanges changes(*segment, arguments.worker_index);
  OscillatorBank group(frequencies, header.sample_rate_hz, changes.feedback(), changes.mul(),
                       header.channels, header.block_frames, static_cast<KernelKind>(header.kernel),
                       *simd);
  std::vector<float> block_buffer(std::size_t{header.block_frames} * header.channels);

  // The render thread's scheduling, as the coordinator planned it (shared/realtime_policy.h),
  // before anything real-time: a refused SCHED_FIFO falls back to SCHED_OTHER at worker_nice.
  const AppliedScheduling scheduling = apply_thread_scheduling(
      ThreadScheduling{header.worker_priority > 0, header.worker_priority, header.worker_nice},
      header.worker_nice);
  slot.scheduling_policy.store(scheduling.policy, std::memory_order_relaxed);
  slot.scheduling_priority.store(scheduling.priority, std::memory_order_relaxed);
  slot.scheduling_nice.store(scheduling.nice, std::memory_order_relaxed);
  slot.scheduling_errno.store(scheduling.error, std::memory_order_relaxed);
  // Everything the render loop touches exists now and has been written once (the bank's state
  // by its constructor, the block buffer zero-filled, the segment's slot and ring by the
  // coordinator); the stack is touched here, before `attached`: lock it all, so that no page
  // fault makes the worker late in its first blocks. Refused (the memlock limit), it renders
  // anyway; the coordinator's start-up report says so. An offline render has no deadline to
  // miss: it skips both (measured: some 4.5 % of a short render's CPU for four workers).
  if (header.offline == 0) {
    prefault_stack();
    slot.memory_lock_errno.store(lock_process_memory(), std::memory_order_relaxed);
  }
  slot.worker_pid.store(getpid(), std::memory_order_relaxed);
  // Release: the coordinator, seeing `attached`, may remove the segment's name (and reads
  // memory_lock_errno and worker_pid).
  slot.attached.store(1, std::memory_order_release);
  wake_always(segment->header().attach_wake);

  switch (render_until_shutdown(*segment, arguments.worker_index, arguments.coordinator_pid, group,
                                changes, block_buffer, fault)) {
    case LoopEnd::kShutdown:
      return 0;
    case LoopEnd::kParentGone:
      std::fprintf(stderr, "%s: coordinator (pid %d) is gone; leaving\n", who.c_str(),
                   arguments.coordinator_pid);
      return 1;
  }
  return 1;
}

}  // namespace synthfarm
