#pragma once
// `synthfarm-bench capacity`: for each worker count, the largest number of oscillators that
// plays in real time without a single underrun (issue 5). Each probe runs the real `synthfarm`
// binary for a fixed time, on its null clock (48 kHz, 256-frame buffers, synthfarm's defaults)
// or on a running JACK server (its rate and period; issue 14: a netjack2 slave against a local
// server), and reads its --report JSON. The search doubles the oscillator count from a small start
// until a probe fails or the maximum is reached, then bisects the bracket down to a relative
// precision.
//
// One probe is one sample of a noisy machine: a capacity found here is "passed one run of S
// seconds", not a guarantee. Longer probes give lower, steadier capacities.
//
// Thread: the caller's (not real-time). Spawns processes, writes and deletes temporary files,
// prints progress on stderr.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace synthfarm::bench {

struct CapacityOptions {
  std::vector<std::uint32_t> workers;  // worker counts; empty: 1..2 x logical cores
  // synthfarm --audio: its null clock, or the JACK server JACK_DEFAULT_SERVER names (its ports
  // connected to nothing: --connect none).
  enum class Audio { kNull, kJack };
  Audio audio = Audio::kNull;
  // synthfarm --sample-rate with --audio jack, which must be the server's: run_capacity reads
  // it from the server before the searches. Unused on the null clock (its 48 kHz default).
  std::uint32_t sample_rate_hz = 48000;
  double seconds = 5.0;                       // played per probe (synthfarm --duration)
  std::string kernel = "fast";                // synthfarm --kernel: fast or exact
  std::uint64_t max_oscillators = 1'000'000;  // total over all workers; the search stops there
  double precision = 0.05;                 // stop when (fail - pass) <= precision x pass (relative)
  std::uint64_t start_oscillators = 1000;  // total of the first probe of each worker count
  // Whole searches per worker count, interleaved (every count once, then again), so that a
  // slow drift of the machine's load touches every count alike.
  std::uint32_t repeats = 3;
  // Probes of one count before it is taken as failed: it passes when any of them has no
  // underrun (see capacity.cpp for why).
  std::uint32_t attempts = 2;
  // synthfarm --buffers: latencies searched, each a search of its own per worker count.
  std::vector<std::uint32_t> buffers{2, 3, 4};
  // synthfarm --cpus; empty: not given (wherever the kernel schedules).
  std::string cpus;
  // Busy processes beside the probes (background_load.h); 0: none. With N > 0 every search
  // runs once without them and once with them.
  std::uint32_t background_load = 0;
  // Scheduling: with synthfarm's real-time scheduling (as it asks for it), without it
  // (RunSettings::realtime_allowed false), or both, each a search of its own.
  enum class Realtime { kOn, kOff, kBoth };
  Realtime realtime = Realtime::kOn;
  // After the searches, each median capacity is rendered offline for the kernel bound: at most
  // this many seconds of audio (the whole probe length when shorter).
  double offline_seconds = 5.0;
  // Before the searches, every CPU's idle wake-up latency is probed for this long
  // (idle_wake_probe.h); 0: not probed.
  double wake_probe_seconds = 5.0;
};

// synthfarm --audio for `options.audio`: "null" or "jack".
const char* audio_name(const CapacityOptions& options);

// The conditions a search runs in, besides the worker count.
struct SearchCondition {
  std::uint32_t buffers = 2;
  std::uint32_t background_load = 0;  // busy processes beside it
  bool realtime = true;               // real-time scheduling allowed
  bool operator==(const SearchCondition&) const = default;
};

// What one probe's report (synthfarm --report) says.
struct ProbeResult {
  std::uint32_t workers = 0;
  std::uint32_t sines_per_worker = 0;
  // Played to the end with no worker underrun frame, no device underflow, no JACK server xrun.
  bool passed = false;
  std::uint64_t callbacks = 0;
  double callback_avg_us = 0.0;
  double callback_max_us = 0.0;
  double period_us = 0.0;               // buffer frames / sample rate, in microseconds
  std::uint64_t device_underflows = 0;  // the null clock's wakes more than a period late
  std::uint64_t server_xruns = 0;       // the JACK server's xruns during the run; 0 on null
  // Non-zero: synthfarm played, then stopped before --duration with this exit code, for the
  // reason its report gives in `ended_because` (e.g. its output stopped asking for audio: a
  // JACK server starved of CPU). A failed probe.
  int exit_code = 0;
  std::string ended_because;
  std::uint64_t underrun_frames = 0;     // summed over workers
  std::uint64_t late_blocks = 0;         // summed over workers
  double render_load_avg_percent = 0.0;  // mean over workers of synthfarm's render_load
  double render_load_max_percent = 0.0;  // the busiest worker's render_load
  // The median over workers of each one's median block render time, in ns (synthfarm's
  // render_time counters: a histogram, so the median is exact to 1/16 octave, about 4 %), and
  // of each one's mean (exact, and longer than the median by the tail of slow blocks).
  double render_median_ns = 0.0;
  double render_mean_ns = 0.0;
  std::uint32_t block_frames = 0;
  double wall_seconds = 0.0;
};

// What an offline render costs per oscillator-sample: the kernels' speed without a deadline.
struct OfflineCost {
  std::uint32_t workers = 0;
  std::uint32_t sines_per_worker = 0;
  double render_median_ns = 0.0;  // median over workers of their median block, in ns
  double render_mean_ns = 0.0;    // median over workers of their mean block, in ns
  std::uint32_t block_frames = 0;
  double ns_per_oscillator_sample() const {
    return render_median_ns / (static_cast<double>(sines_per_worker) * block_frames);
  }
  double mean_ns_per_oscillator_sample() const {
    return render_mean_ns / (static_cast<double>(sines_per_worker) * block_frames);
  }
};

// The kernel bound of issue 12: the oscillators `cores` CPUs could render in real time at
// `ns_per_oscillator_sample` (cores x 1 s / (ns per oscillator-sample x sample rate)).
double kernel_bound(std::uint32_t cores, double ns_per_oscillator_sample,
                    std::uint32_t sample_rate_hz);

// One search for one worker count.
struct CapacityResult {
  std::uint32_t workers = 0;
  SearchCondition condition;
  std::uint32_t repeat = 1;  // which of the repeated searches, from 1
  // Largest total that passed (workers x sines_per_worker); 0 when even one oscillator per
  // worker failed.
  std::uint64_t capacity = 0;
  std::uint32_t sines_per_worker = 0;
  // Smallest total that failed; 0 when every probe passed (the maximum was reached).
  std::uint64_t first_failure = 0;
  unsigned probes = 0;                     // every run of synthfarm, retries included
  std::optional<ProbeResult> at_capacity;  // the probe at `capacity`, when there was one
  double wall_seconds = 0.0;               // the whole search for this worker count
};

// The repeated searches of one worker count.
struct CapacitySummary {
  std::uint32_t workers = 0;
  SearchCondition condition;
  std::vector<std::uint64_t> capacities;  // one per search, in run order
  std::uint64_t median = 0;  // of an even count: the lower middle, so it is a measured value
  std::uint64_t min = 0;
  std::uint64_t max = 0;
  CapacityResult median_search;  // the search that found `median` (its loads are reported)
};

// Groups the searches by worker count and condition, in the order first searched.
std::vector<CapacitySummary> summarize_capacity(const std::vector<CapacityResult>& searches);

// Searches each worker count in turn, all of them `repeats` times. Returns nullopt and sets `error`
// when a probe could not be run or its output not read (with the tail of synthfarm's output); a
// probe that merely underruns is a result, not an error.
// "buffers 2, real time, load 2": for progress lines and error messages.
std::string condition_text(const SearchCondition& condition);

// The conditions of `options`, in the order searched: buffers within real time within load.
std::vector<SearchCondition> search_conditions(const CapacityOptions& options);

std::optional<std::vector<CapacityResult>> measure_capacity(const CapacityOptions& options,
                                                            const std::string& synthfarm,
                                                            std::string& error);

}  // namespace synthfarm::bench

namespace synthfarm::bench {

// Renders `workers` x `sines_per_worker` offline (synthfarm --output, no deadline, no background
// load) for the kernel bound. nullopt with `error` when it could not run.
std::optional<OfflineCost> measure_offline_cost(const CapacityOptions& options,
                                                const std::string& synthfarm, std::uint32_t workers,
                                                std::uint32_t sines_per_worker, std::string& error);

}  // namespace synthfarm::bench
