#include "bench/capacity.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string_view>

#include "bench/synthfarm_process.h"

namespace synthfarm::bench {
namespace {

// The `key=value` fields of one status line, after its label. A trailing '%' (render_load) is
// dropped; a value that is not a number reads as 0, which only `state=` has.
std::map<std::string, double, std::less<>> fields_of(std::string_view line) {
  std::map<std::string, double, std::less<>> fields;
  std::size_t position = 0;
  while (position < line.size()) {
    const std::size_t end = std::min(line.find(' ', position), line.size());
    const std::string_view token = line.substr(position, end - position);
    const std::size_t equals = token.find('=');
    if (equals != std::string_view::npos) {
      const std::string value(token.substr(equals + 1));
      fields[std::string(token.substr(0, equals))] = std::strtod(value.c_str(), nullptr);
    }
    position = end + 1;
  }
  return fields;
}

// Reads the `final:` line and the `final worker N:` lines. False when any is missing, which
// means synthfarm did not end normally.
bool parse_final_lines(const std::string& output, ProbeResult& probe, std::string& error) {
  std::istringstream lines(output);
  std::string line;
  bool coordinator_seen = false;
  unsigned workers_seen = 0;
  double load_sum = 0.0;
  while (std::getline(lines, line)) {
    const std::string_view view = line;
    if (view.starts_with("final: ")) {
      const auto fields = fields_of(view);
      for (const char* key :
           {"callbacks", "callback_avg_us", "callback_max_us", "period_us", "device_underflows"}) {
        if (!fields.contains(key)) {
          error = std::string("no ") + key + "= on synthfarm's final: line";
          return false;
        }
      }
      probe.callbacks = static_cast<std::uint64_t>(fields.find("callbacks")->second);
      probe.callback_avg_us = fields.find("callback_avg_us")->second;
      probe.callback_max_us = fields.find("callback_max_us")->second;
      probe.period_us = fields.find("period_us")->second;
      probe.device_underflows =
          static_cast<std::uint64_t>(fields.find("device_underflows")->second);
      coordinator_seen = true;
    } else if (view.starts_with("final worker ")) {
      const auto fields = fields_of(view);
      const auto underruns = fields.find("underrun_frames");
      const auto late = fields.find("late_blocks");
      if (underruns == fields.end() || late == fields.end()) {
        error = "no underrun_frames= or late_blocks= on a final worker line of synthfarm";
        return false;
      }
      probe.underrun_frames += static_cast<std::uint64_t>(underruns->second);
      probe.late_blocks += static_cast<std::uint64_t>(late->second);
      // render_load is optional: older builds did not print it.
      if (const auto load = fields.find("render_load"); load != fields.end()) {
        load_sum += load->second;
        probe.render_load_max_percent = std::max(probe.render_load_max_percent, load->second);
      }
      ++workers_seen;
    }
  }
  if (!coordinator_seen || workers_seen != probe.workers) {
    error = "synthfarm printed " + std::string(coordinator_seen ? "" : "no final: line and ") +
            std::to_string(workers_seen) + " final worker lines for " +
            std::to_string(probe.workers) + " workers";
    return false;
  }
  probe.render_load_avg_percent = load_sum / probe.workers;
  probe.passed = probe.underrun_frames == 0 && probe.device_underflows == 0;
  return true;
}

// One real-time run on the null clock, its output parsed. Its control FIFO is private to this
// probe, so that a synthfarm the user is running (instance 'default') is not disturbed.
std::optional<ProbeResult> run_probe(const std::string& synthfarm, std::uint32_t workers,
                                     std::uint32_t sines, const CapacityOptions& options,
                                     std::string& error) {
  const std::string name = unique_run_name();
  const std::filesystem::path control =
      std::filesystem::temp_directory_path() / (name + ".control");
  char seconds_text[32];
  std::snprintf(seconds_text, sizeof seconds_text, "%g", options.seconds);
  const auto run =
      run_synthfarm(synthfarm,
                    {"--audio", "null", "--workers", std::to_string(workers), "--sines",
                     std::to_string(sines), "--seed", "1", "--duration", seconds_text, "--kernel",
                     options.kernel, "--name", name, "--control", control.string()},
                    error);
  std::error_code ignored;
  std::filesystem::remove(control, ignored);  // synthfarm removes it; this is in case it died
  if (!run) return std::nullopt;
  ProbeResult probe;
  probe.workers = workers;
  probe.sines_per_worker = sines;
  probe.wall_seconds = run->wall_seconds;
  if (!parse_final_lines(run->output, probe, error)) {
    error = "synthfarm --audio null --workers " + std::to_string(workers) + " --sines " +
            std::to_string(sines) + ": " + error + "; its output:\n" + tail_of(run->output);
    return std::nullopt;
  }
  return probe;
}

// Bisection stops when the bracket (last pass, first fail) is within `precision` of its lower
// end, or cannot be split any more (one oscillator per worker apart).
bool bracket_closed(std::uint32_t pass, std::uint32_t fail, double precision) {
  return fail - pass <= 1 ||
         (pass > 0 && static_cast<double>(fail - pass) <= precision * static_cast<double>(pass));
}

}  // namespace

std::optional<std::vector<CapacityResult>> measure_capacity(const CapacityOptions& options,
                                                            const std::string& synthfarm,
                                                            std::string& error) {
  std::vector<CapacityResult> results;
  for (std::uint32_t repeat = 1; repeat <= options.repeats; ++repeat) {
    for (const std::uint32_t workers : options.workers) {
      CapacityResult result;
      result.workers = workers;
      result.repeat = repeat;
      // The search runs over oscillators per worker, so that every probe splits evenly.
      const auto max_per_worker = static_cast<std::uint32_t>(
          std::clamp<std::uint64_t>(options.max_oscillators / workers, 1, 10'000'000));
      const auto start_per_worker = static_cast<std::uint32_t>(std::clamp<std::uint64_t>(
          (options.start_oscillators + workers - 1) / workers, 1, max_per_worker));
      std::uint32_t pass = 0;  // largest per-worker count that passed; 0: none yet
      std::uint32_t fail = 0;  // smallest per-worker count that failed; 0: none yet
      const auto started = std::chrono::steady_clock::now();
      // A count fails only when `attempts` probes in a row fail: on a shared virtual machine the
      // whole VM stalls now and then for longer than a period, whatever the load, and one such
      // stall would otherwise put the capacity anywhere below the truth. A pass is still a
      // whole probe with no underrun at all.
      const auto probe = [&](std::uint32_t sines) -> bool {
        std::optional<ProbeResult> outcome;
        for (std::uint32_t attempt = 1; attempt <= options.attempts; ++attempt) {
          outcome = run_probe(synthfarm, workers, sines, options, error);
          if (!outcome) return false;
          ++result.probes;
          if (outcome->passed) break;
          if (attempt < options.attempts) {
            std::fprintf(stderr,
                         "synthfarm-bench: capacity, W=%u S=%u: failed (underrun frames %llu, "
                         "device underflows %llu); probing again\n",
                         workers, sines, static_cast<unsigned long long>(outcome->underrun_frames),
                         static_cast<unsigned long long>(outcome->device_underflows));
          }
        }
        std::fprintf(stderr,
                     "synthfarm-bench: capacity, search %u of %u, W=%u S=%u (%llu total): %s, "
                     "underrun frames %llu, device underflows %llu, late blocks %llu, callback max "
                     "%.1f us\n",
                     repeat, options.repeats, workers, sines,
                     static_cast<unsigned long long>(std::uint64_t{workers} * sines),
                     outcome->passed ? "pass" : "FAIL",
                     static_cast<unsigned long long>(outcome->underrun_frames),
                     static_cast<unsigned long long>(outcome->device_underflows),
                     static_cast<unsigned long long>(outcome->late_blocks),
                     outcome->callback_max_us);
        if (outcome->passed) {
          pass = sines;
          result.at_capacity = *outcome;
        } else {
          fail = sines;
        }
        return true;
      };
      // Growth: double until a probe fails or the maximum has passed.
      for (std::uint32_t sines = start_per_worker;;) {
        if (!probe(sines)) return std::nullopt;
        if (fail != 0 || sines == max_per_worker) break;
        sines = static_cast<std::uint32_t>(std::min<std::uint64_t>(2ull * sines, max_per_worker));
      }
      // Bisection between the last pass (0 if the first probe failed) and the first failure.
      while (fail != 0 && !bracket_closed(pass, fail, options.precision)) {
        if (!probe(pass + (fail - pass) / 2)) return std::nullopt;
      }
      result.wall_seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      result.sines_per_worker = pass;
      result.capacity = std::uint64_t{workers} * pass;
      result.first_failure = std::uint64_t{workers} * fail;
      results.push_back(result);
    }
  }
  return results;
}

std::vector<CapacitySummary> summarize_capacity(const std::vector<CapacityResult>& searches) {
  std::vector<CapacitySummary> summaries;
  for (const CapacityResult& search : searches) {
    auto summary = std::find_if(summaries.begin(), summaries.end(), [&](const CapacitySummary& s) {
      return s.workers == search.workers;
    });
    if (summary == summaries.end()) {
      summaries.push_back(CapacitySummary{});
      summary = summaries.end() - 1;
      summary->workers = search.workers;
    }
    summary->capacities.push_back(search.capacity);
  }
  for (CapacitySummary& summary : summaries) {
    std::vector<std::uint64_t> sorted = summary.capacities;
    std::sort(sorted.begin(), sorted.end());
    summary.median = sorted[(sorted.size() - 1) / 2];
    summary.min = sorted.front();
    summary.max = sorted.back();
    for (const CapacityResult& search : searches) {
      if (search.workers == summary.workers && search.capacity == summary.median) {
        summary.median_search = search;
        break;
      }
    }
  }
  return summaries;
}

}  // namespace synthfarm::bench
