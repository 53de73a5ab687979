#pragma once
// One reading of everything a running synthfarm counts, for the status command, the live status
// line and the --report file. The real-time side only counts (mixer, master stage, workers'
// slots); this copies the counters out on the control thread.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "shared/duration_histogram.h"
#include "shared/realtime_policy.h"

namespace synthfarm {

class Mixer;
class Segment;

// What only the coordinator's control thread knows about a worker process.
struct WorkerProcessView {
  int pid = 0;
  const char* state = "playing";  // playing, stopped, resuming, dead, exited
  std::string ended;              // how a dead worker ended ("was killed by signal 9 ..."), or ""
};

struct WorkerStatistics {
  std::uint32_t index = 0;
  int pid = 0;
  std::string state;
  std::string ended;  // how a dead worker ended, or ""
  std::uint32_t oscillators = 0;
  float feedback = 0.0f;
  float mul = 0.0f;
  std::uint64_t rendered_frames = 0;
  std::uint64_t underrun_frames = 0;  // silence played for it
  std::uint64_t late_blocks = 0;      // callbacks in which it was short
  std::uint64_t discarded_frames = 0;
  DurationSummary render_time;  // per block
  // What its render thread runs with, as the worker read it back (shared/realtime_policy.h).
  AppliedScheduling scheduling;
  bool realtime() const noexcept;
};

struct RunStatistics {
  std::uint32_t sample_rate_hz = 0;
  std::uint32_t block_frames = 0;  // per callback and per rendered block
  std::uint64_t timeline_frames = 0;
  std::uint64_t callbacks = 0;
  std::uint64_t device_underflows = 0;
  std::uint64_t server_xruns = 0;  // cycles the audio server (JACK) saw some client miss
  std::uint64_t nonfinite_samples = 0;
  std::uint64_t limited_samples = 0;
  double gain_db = 0.0;
  DurationSummary callback;
  std::vector<WorkerStatistics> workers;
  // The output thread's and the waker's scheduling; policy -1 when unknown (offline, or before
  // the first callback).
  AppliedScheduling audio_thread{-1, 0, 0, 0};
  AppliedScheduling waker{-1, 0, 0, 0};
  // The share of the CPU the kernel leaves real-time threads before it throttles them
  // (sched_rt_runtime_us over sched_rt_period_us; 1 when off).
  double realtime_throttle_share = 1.0;

  // Whether `worker`, with `render` its render times over some window (the whole run, or the
  // live table's last second), is real-time and loads its CPU close to the throttling share:
  // throttling would soon stall it for the rest of the kernel's period.
  bool near_realtime_throttling(const WorkerStatistics& worker,
                                const DurationSummary& render) const noexcept;

  double period_ns() const noexcept { return 1e9 * block_frames / sample_rate_hz; }
  double seconds() const noexcept { return static_cast<double>(timeline_frames) / sample_rate_hz; }
};

// What --record has done so far (recorder.h counts it; the status lines and the report say it).
struct RecordingStatistics {
  std::string path;
  std::uint64_t frames_written = 0;
  std::uint64_t frames_dropped = 0;  // not written in time, missing from the file
  std::string error;                 // why writing stopped, or ""
};

// Thread: control. Copies the counters (about 5 KB per histogram; allocates).
RunStatistics collect_statistics(const Mixer& mixer, const Segment& segment,
                                 std::span<const WorkerProcessView> workers);

}  // namespace synthfarm
