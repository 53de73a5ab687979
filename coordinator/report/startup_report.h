#pragma once
// The lines synthfarm prints once everything has started: what plays, how to repeat it, where
// the sound goes, the added latency, where the control FIFO is, which worker plays what.
// A pure formatter: plain data in, whole lines out; the caller prints.

#include <cstdint>
#include <string>
#include <vector>

#include "coordinator/plan/cli_options.h"
#include "coordinator/plan/frequency_plan.h"
#include "coordinator/plan/oscillator_plan.h"

namespace synthfarm {

// What only the started run knows.
struct StartupFacts {
  std::string output_description;  // live outputs ("JACK, 48000 Hz, ..."); unused offline
  std::uint32_t sample_rate_hz = 0;
  std::uint32_t added_latency_frames = 0;  // live outputs: how far ahead the workers render
  std::string recording_path;              // --record's file, or "" when not recording
  std::string control_fifo_path;
  unsigned worker_memory_lock_failures = 0;  // workers that could not lock their memory
  int first_memory_lock_errno = 0;           // the first of those failures' errno
  std::vector<int> worker_pids;              // in slot order
  std::vector<WorkerGroup> groups;           // each worker's oscillators, in slot order
  // Real-time scheduling (shared/realtime_policy.h), live runs only: the audio thread's
  // priority the plan started from ("asks SCHED_FIFO 70", "not real-time"), why ours are not
  // real-time ("" when they are), what the waker got, and what each worker got, in slot order.
  std::string audio_thread_priority;
  std::string not_realtime_reason;
  std::string waker_scheduling;
  std::vector<std::string> worker_scheduling;
};

// Thread: any. Allocates. Offline when options.output_path is set (as the run decides).
std::string format_startup_report(const Options& options, const OscillatorPlan& plan,
                                  const StartupFacts& facts);

}  // namespace synthfarm
