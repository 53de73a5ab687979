// synthfarm-bench capacity: the searches of every worker count and condition (buffers, real
// time, background load), one row for each (the median search, with every search beside it in
// JSON), and the kernel bound each median capacity is a share of.
#include <sched.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bench/bench_commands.h"
#include "bench/bench_report.h"
#include "bench/capacity.h"
#include "bench/idle_wake_probe.h"
#include "bench/jack_server.h"
#include "bench/result_table.h"
#include "coordinator/plan/cpu_list.h"

namespace synthfarm::bench {
namespace {

// What the capacity searches and the offline renders after them found.
struct CapacityMeasurement {
  std::vector<CapacityResult> searches;
  // Offline cost by (workers, sines per worker): each median capacity rendered once.
  std::map<std::pair<std::uint32_t, std::uint32_t>, OfflineCost> offline;
};

// The CPUs the workers can use: --cpus's list, else the bench's own allowed set (synthfarm
// inherits it).
std::uint32_t usable_cpus(const CapacityOptions& options) {
  std::string why;
  if (!options.cpus.empty()) {
    if (const auto cpus = parse_cpu_list(options.cpus, why)) {
      return static_cast<std::uint32_t>(cpus->size());
    }
  }
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return 1;
  return static_cast<std::uint32_t>(std::max(1, CPU_COUNT(&allowed)));
}

// The searches of one worker count and condition, in run order: JSON only (CSV counts them).
std::shared_ptr<const ResultTable> searches_table(const std::vector<CapacityResult>& results,
                                                  const CapacitySummary& summary) {
  auto table = std::make_shared<ResultTable>(std::vector<Column>{
      {.name = "repeat"},
      {.name = "capacity"},
      {.name = "sines_per_worker"},
      {.name = "first_failure"},
      {.name = "probes"},
      {.name = "wall_seconds"},
  });
  for (const CapacityResult& search : results) {
    if (search.workers != summary.workers || !(search.condition == summary.condition)) continue;
    table->add_row()
        .set("repeat", search.repeat)
        .set("capacity", search.capacity)
        .set("sines_per_worker", search.sines_per_worker)
        .set("first_failure", search.first_failure)
        .set("probes", search.probes)
        .set("wall_seconds", search.wall_seconds);
  }
  return table;
}

// `sample_rate_hz`: the output's, for the kernel bound (the JACK server's with --audio jack).
ResultTable capacity_table(const CapacityMeasurement& measured, std::uint32_t cpus,
                           std::uint32_t sample_rate_hz) {
  const std::vector<CapacityResult>& results = measured.searches;
  ResultTable table({
      {.name = "workers"},
      {.name = "buffers"},
      {.name = "realtime", .heading = "rt", .align_left = true},
      {.name = "background_load", .heading = "load"},
      {.name = "capacity"},
      {.name = "range", .outputs = kText},
      {.name = "capacity_min", .outputs = kJson | kCsv},
      {.name = "capacity_max", .outputs = kJson | kCsv},
      {.name = "searches", .outputs = kJson | kCsv},
      {.name = "capacities", .outputs = kJson},
      // The kernel bound of the median capacity's offline render, and the capacity's share.
      {.name = "share_of_kernel_bound",
       .heading = "of bound",
       .decimals = 1,
       .text_scale = 100,
       .text_suffix = "%"},
      {.name = "kernel_bound", .heading = "bound"},
      {.name = "bound_cores", .outputs = kJson | kCsv},
      {.name = "live_ns_per_oscillator_sample", .heading = "live ns", .decimals = 4},
      {.name = "offline_ns_per_oscillator_sample", .heading = "offline ns", .decimals = 4},
      {.name = "live_over_offline", .heading = "live/off", .decimals = 3},
      // The same from the mean blocks: exact, and with the tail of slow blocks in it.
      {.name = "live_mean_ns_per_oscillator_sample", .heading = "live mean", .decimals = 4},
      {.name = "offline_mean_ns_per_oscillator_sample", .outputs = kJson | kCsv},
      {.name = "live_mean_over_offline_mean", .heading = "mean l/o", .decimals = 3},
      // Load rows: the median capacity over that of the same row without the load.
      {.name = "share_of_unloaded",
       .heading = "of unloaded",
       .decimals = 1,
       .text_scale = 100,
       .text_suffix = "%"},
      {.name = "sines_per_worker", .heading = "per worker"},
      {.name = "first_failure", .heading = "failed at", .zero_text = "none"},
      {.name = "probes"},
      // At the median search's capacity; missing when no probe passed.
      {.name = "callbacks", .outputs = kJson},
      {.name = "callback_avg_us", .outputs = kJson | kCsv},
      {.name = "callback_max_us", .outputs = kJson | kCsv},
      {.name = "period_us", .outputs = kJson | kCsv},
      {.name = "callback_avg_share_of_period",
       .heading = "cb avg%",
       .decimals = 2,
       .text_scale = 100},
      {.name = "callback_max_share_of_period",
       .heading = "cb max%",
       .decimals = 2,
       .text_scale = 100},
      {.name = "render_load_avg_percent", .heading = "load avg", .decimals = 1, .text_suffix = "%"},
      {.name = "render_load_max_percent", .heading = "load max", .decimals = 1, .text_suffix = "%"},
      {.name = "late_blocks", .outputs = kJson},
      // All searches of the worker count together.
      {.name = "wall_seconds", .heading = "wall s", .decimals = 1},
  });
  const std::vector<CapacitySummary> summaries = summarize_capacity(results);
  for (const CapacitySummary& summary : summaries) {
    const CapacityResult& r = summary.median_search;
    double wall_seconds = 0.0;
    std::uint64_t probes = 0;
    for (const CapacityResult& search : results) {
      if (search.workers != summary.workers || !(search.condition == summary.condition)) continue;
      wall_seconds += search.wall_seconds;
      probes += search.probes;
    }
    auto row = table.add_row();
    row.set("workers", r.workers)
        .set("buffers", summary.condition.buffers)
        .set("realtime", std::string(summary.condition.realtime ? "on" : "off"))
        .set("background_load", summary.condition.background_load)
        .set("capacity", summary.median)
        .set("range",
             range_text(static_cast<double>(summary.min), static_cast<double>(summary.max), 0))
        .set("capacity_min", summary.min)
        .set("capacity_max", summary.max)
        .set("searches", searches_table(results, summary))
        .set("capacities", summary.capacities)
        .set("sines_per_worker", r.sines_per_worker)
        .set("first_failure", r.first_failure)
        .set("probes", probes)
        .set("wall_seconds", wall_seconds);
    if (summary.condition.background_load > 0) {
      SearchCondition quiet = summary.condition;
      quiet.background_load = 0;
      for (const CapacitySummary& other : summaries) {
        if (other.workers == summary.workers && other.condition == quiet && other.median > 0) {
          row.set("share_of_unloaded",
                  static_cast<double>(summary.median) / static_cast<double>(other.median));
        }
      }
    }
    const auto offline = measured.offline.find({r.workers, r.sines_per_worker});
    if (offline != measured.offline.end() && offline->second.render_median_ns > 0.0) {
      const double offline_ns = offline->second.ns_per_oscillator_sample();
      const std::uint32_t cores = std::min(r.workers, cpus);
      const double bound = kernel_bound(cores, offline_ns, sample_rate_hz);
      row.set("offline_ns_per_oscillator_sample", offline_ns)
          .set("bound_cores", cores)
          .set("kernel_bound", static_cast<std::uint64_t>(bound))
          .set("share_of_kernel_bound", static_cast<double>(summary.median) / bound);
      if (const auto& at = r.at_capacity; at && at->render_median_ns > 0.0) {
        const double live_ns =
            at->render_median_ns / (static_cast<double>(at->sines_per_worker) * at->block_frames);
        const double offline_mean_ns = offline->second.mean_ns_per_oscillator_sample();
        const double live_mean_ns =
            at->render_mean_ns / (static_cast<double>(at->sines_per_worker) * at->block_frames);
        row.set("live_ns_per_oscillator_sample", live_ns)
            .set("live_over_offline", live_ns / offline_ns)
            .set("live_mean_ns_per_oscillator_sample", live_mean_ns)
            .set("offline_mean_ns_per_oscillator_sample", offline_mean_ns)
            .set("live_mean_over_offline_mean", live_mean_ns / offline_mean_ns);
      }
    }
    if (const auto& at = r.at_capacity) {
      row.set("callbacks", at->callbacks)
          .set("callback_avg_us", at->callback_avg_us)
          .set("callback_max_us", at->callback_max_us)
          .set("period_us", at->period_us)
          .set("callback_avg_share_of_period", at->callback_avg_us / at->period_us)
          .set("callback_max_share_of_period", at->callback_max_us / at->period_us)
          .set("render_load_avg_percent", at->render_load_avg_percent)
          .set("render_load_max_percent", at->render_load_max_percent)
          .set("late_blocks", at->late_blocks);
    }
  }
  return table;
}

// A 1 ms timer: cyclictest's default interval; long enough for a CPU to go idle between two
// wake-ups, and a thousand samples a second per CPU.
constexpr double kWakeProbeIntervalUs = 1000.0;

nlohmann::json idle_wake_json(const std::optional<IdleWakeLatency>& latency, double slack_us) {
  if (!latency) return nullptr;
  return {{"cpus", latency->cpus},
          {"seconds", latency->seconds},
          {"interval_us", latency->interval_us},
          {"realtime", latency->realtime},
          {"wakes", latency->wakes},
          {"median_us", latency->median_us},
          {"p99_us", latency->p99_us},
          {"max_us", latency->max_us},
          {"missed_deadlines", latency->missed},
          {"slack_us", slack_us},
          {"cpus_not_probed", latency->cpus_not_probed},
          // No slack (one buffer under JACK): no verdict, as in the text.
          {"later_than_slack", slack_us > 0 ? nlohmann::json(wakes_later_than(*latency, slack_us))
                                            : nlohmann::json(nullptr)},
          {"later_than_1ms", wakes_later_than(*latency, 1000.0)}};
}

}  // namespace

int run_capacity(CapacityCommand command) {
  const MachineInfo machine = read_machine_info();
  CapacityOptions& options = command.options;
  if (options.workers.empty()) {
    for (std::uint32_t workers = 1; workers <= 2 * machine.logical_cores; ++workers) {
      options.workers.push_back(workers);
    }
  }
  for (const std::uint32_t workers : options.workers) {
    if (options.max_oscillators < workers) {
      std::fprintf(stderr, "synthfarm-bench: --max-oscillators %llu is fewer than %u workers\n",
                   static_cast<unsigned long long>(options.max_oscillators), workers);
      return kExitUsage;
    }
  }
  // The output the probes play on: the null clock's synthfarm defaults, or the running JACK
  // server's rate and period, found now so that a missing server fails before any probe.
  std::uint32_t sample_rate_hz = 48000;
  std::uint32_t block_frames = 256;
  std::string output_text = "null clock";
  if (options.audio == CapacityOptions::Audio::kJack) {
    std::string error;
    const auto server = find_jack_server(error);
    if (!server) {
      std::fprintf(stderr, "synthfarm-bench: %s\n", error.c_str());
      return kExitFailure;
    }
    sample_rate_hz = options.sample_rate_hz = server->sample_rate_hz;
    block_frames = server->buffer_frames;
    output_text = "JACK server '" + server->name + "'";
  }
  // First, before any probe or background load: how late an idle CPU wakes, which no capacity
  // can beat (under --audio jack the server's own thread runs meanwhile, as it will then).
  std::optional<IdleWakeLatency> idle_wake;
  if (options.wake_probe_seconds > 0) {
    std::fprintf(stderr, "synthfarm-bench: capacity, idle wake-up probe (%g s)\n",
                 options.wake_probe_seconds);
    std::string error;
    idle_wake = measure_idle_wake_latency(options.wake_probe_seconds, kWakeProbeIntervalUs, error);
    if (!idle_wake) {
      std::fprintf(stderr, "synthfarm-bench: %s\n", error.c_str());
      return kExitFailure;
    }
  }
  const auto measured = measure_with_synthfarm(
      [&](const std::string& program, std::string& error) -> std::optional<CapacityMeasurement> {
        auto searches = measure_capacity(options, program, error);
        if (!searches) return std::nullopt;
        CapacityMeasurement measurement{std::move(*searches), {}};
        // The kernel bound of each median capacity, with nothing else running.
        for (const CapacitySummary& summary : summarize_capacity(measurement.searches)) {
          const std::uint32_t sines = summary.median_search.sines_per_worker;
          if (sines == 0 || measurement.offline.contains({summary.workers, sines})) continue;
          std::fprintf(stderr, "synthfarm-bench: capacity, offline render of W=%u S=%u\n",
                       summary.workers, sines);
          auto cost = measure_offline_cost(options, program, summary.workers, sines, error);
          if (!cost) return std::nullopt;
          measurement.offline[{summary.workers, sines}] = *cost;
        }
        return measurement;
      });
  if (!measured) return kExitFailure;
  const auto& [results, synthfarm, load_start, load_end] = *measured;
  const std::uint32_t cpus = usable_cpus(options);
  const ResultTable table = capacity_table(results, cpus, sample_rate_hz);

  print_machine(machine, load_start, load_end, options.kernel);
  const bool jack = options.audio == CapacityOptions::Audio::kJack;
  const std::string jack_arguments =
      jack ? " --sample-rate " + std::to_string(sample_rate_hz) + " --connect none" : "";
  std::printf(
      "measure:      %s --audio %s --duration %g --seed 1 --buffers B%s%s%s (%s, %u Hz, %u-frame "
      "buffers); a probe passes with 0 underrun frames, 0 device underflows and 0 server "
      "xruns\n",
      synthfarm.c_str(), audio_name(options), options.seconds,
      options.cpus.empty() ? "" : " --cpus ", options.cpus.c_str(), jack_arguments.c_str(),
      output_text.c_str(), sample_rate_hz, block_frames);
  std::printf(
      "bound:        each median capacity rendered offline (--output, %g s); bound = min(W, %u "
      "CPUs) x 1e9 / (offline ns per oscillator-sample x %u)\n",
      std::min(options.seconds, options.offline_seconds), cpus, sample_rate_hz);
  // What a probe survives. The null clock counts a wake-up one period late as a device
  // underflow, which fails the probe at any --buffers. Under JACK the server keeps time, and a
  // worker's block has (B - 1) periods to spare at B buffers.
  const std::uint32_t fewest_buffers =
      *std::min_element(options.buffers.begin(), options.buffers.end());
  const double period_us = 1e6 * block_frames / sample_rate_hz;
  const double slack_us = jack ? (fewest_buffers - 1.0) * period_us : period_us;
  if (idle_wake) {
    const std::string slack_text =
        jack ? "what a block has to spare at " + std::to_string(fewest_buffers) + " buffers"
             : "a period: the null clock's device underflow";
    std::printf("idle wake-up: %s\n",
                describe_idle_wake_latency(*idle_wake, slack_us, slack_text).c_str());
  }
  if (options.background_load > 0) {
    std::printf("load:         rows with load %u ran beside %u x /usr/bin/yes > /dev/null\n",
                options.background_load, options.background_load);
  }
  std::printf(
      "search:       from %llu in total, doubling to at most %llu, then bisecting to within "
      "%g %%; %u searches per worker count, interleaved; a count fails after %u failed "
      "probes in a row\n\n",
      static_cast<unsigned long long>(options.start_oscillators),
      static_cast<unsigned long long>(options.max_oscillators), 100 * options.precision,
      options.repeats, options.attempts);
  std::fputs(to_text_table(table).c_str(), stdout);
  std::printf(
      "\ncapacity: total oscillators of the largest passing probe, median of the searches (range: "
      "lowest-highest); failed at: the smallest failing one of the median search (none: the "
      "maximum passed).\ncb avg%%, cb max%%: the callback's time as a share of the period at the "
      "median search's capacity; load: the workers' render_load there (mean, busiest); -: no "
      "probe passed. probes and wall s: all searches together.\nrt: real-time scheduling "
      "allowed (on) or not (off). of bound: capacity / bound; live ns, offline ns: the median "
      "block's ns per oscillator-sample at capacity and offline (to 1/16 octave, ~4 %%: a "
      "histogram's); live mean, mean l/o: the same from the mean blocks (exact, the slow tail "
      "included); of unloaded: capacity under "
      "load / capacity without it.\n");
  return write_reports(command.files,
                       {{"benchmark", "capacity"},
                        {"machine", machine_json(machine, load_start, load_end)},
                        {"kernel", options.kernel},
                        {"seconds", options.seconds},
                        {"repeats", options.repeats},
                        {"attempts", options.attempts},
                        {"audio", audio_name(options)},
                        {"sample_rate_hz", sample_rate_hz},
                        {"block_frames", block_frames},
                        {"start_oscillators", options.start_oscillators},
                        {"max_oscillators", options.max_oscillators},
                        {"precision", options.precision},
                        {"buffers", options.buffers},
                        {"cpus", options.cpus},
                        {"background_load", options.background_load},
                        {"bound_cpus", cpus},
                        {"offline_seconds", std::min(options.seconds, options.offline_seconds)},
                        {"idle_wake", idle_wake_json(idle_wake, slack_us)}},
                       table);
}

}  // namespace synthfarm::bench
