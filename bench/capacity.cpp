#include "bench/capacity.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string_view>

#include "bench/background_load.h"
#include "bench/synthfarm_process.h"

namespace synthfarm::bench {
namespace {

// The median over workers of each one's `statistic` ("median_ns", "mean_ns") of its block
// render times, from a report's "workers" array.
double median_over_workers(const nlohmann::json& workers, const char* statistic) {
  std::vector<double> medians;
  for (const nlohmann::json& worker : workers) {
    medians.push_back(worker.at("render_time").at(statistic).get<double>());
  }
  if (medians.empty()) return 0.0;
  std::sort(medians.begin(), medians.end());
  return medians[(medians.size() - 1) / 2];
}

// Reads synthfarm's --report JSON of one probe (run_report.h), which exited with `exit_code`.
// False with `error` when it is not a complete report of a run that played.
bool read_probe_report(const std::filesystem::path& path, int exit_code, ProbeResult& probe,
                       std::string& error) {
  std::ifstream file(path);
  if (!file) {
    error = "synthfarm wrote no report at " + path.string();
    return false;
  }
  try {
    const nlohmann::json report = nlohmann::json::parse(file);
    const nlohmann::json& why = report.at("error");
    if (!report.at("played").get<bool>()) {
      error = "synthfarm did not play (exit code " + std::to_string(exit_code) +
              "): " + (why.is_string() ? why.get<std::string>() : "its report gives no reason");
      return false;
    }
    probe.exit_code = exit_code;
    if (exit_code != 0) {
      probe.ended_because = why.is_string() ? why.get<std::string>() : "no reason reported";
    }
    const nlohmann::json& callback = report.at("callback");
    probe.callbacks = callback.at("count").get<std::uint64_t>();
    probe.callback_avg_us = callback.at("mean_ns").get<double>() / 1e3;
    probe.callback_max_us = callback.at("max_ns").get<double>() / 1e3;
    probe.period_us = callback.at("period_ns").get<double>() / 1e3;
    probe.device_underflows = report.at("device_underflows").get<std::uint64_t>();
    probe.server_xruns = report.at("server_xruns").get<std::uint64_t>();
    const nlohmann::json& workers = report.at("workers");
    if (workers.size() != probe.workers) {
      error = "the report lists " + std::to_string(workers.size()) + " workers, not " +
              std::to_string(probe.workers);
      return false;
    }
    probe.block_frames = report.at("configuration").at("block_frames").get<std::uint32_t>();
    probe.render_median_ns = median_over_workers(workers, "median_ns");
    probe.render_mean_ns = median_over_workers(workers, "mean_ns");
    double load_sum = 0.0;
    for (const nlohmann::json& worker : workers) {
      probe.underrun_frames += worker.at("underrun_frames").get<std::uint64_t>();
      probe.late_blocks += worker.at("late_blocks").get<std::uint64_t>();
      const double load = 100.0 * worker.at("render_time").at("mean_share_of_period").get<double>();
      load_sum += load;
      probe.render_load_max_percent = std::max(probe.render_load_max_percent, load);
    }
    probe.render_load_avg_percent = load_sum / probe.workers;
  } catch (const nlohmann::json::exception& failure) {
    error =
        "synthfarm's report " + path.string() + " is not what this bench reads: " + failure.what();
    return false;
  }
  // A JACK xrun is a cycle the server could not complete in time: on a server of our own it
  // is our client's (or the graph's) lateness, so it fails the probe like an underrun does.
  probe.passed = probe.exit_code == 0 && probe.underrun_frames == 0 &&
                 probe.device_underflows == 0 && probe.server_xruns == 0;
  return true;
}

// For progress lines: why a probe that played ended before its time; empty when it did not.
std::string ended_text(const ProbeResult& probe) {
  if (probe.exit_code == 0) return "";
  return "; synthfarm ended early (exit code " + std::to_string(probe.exit_code) +
         "): " + probe.ended_because;
}

// One real-time run on the null clock or the JACK server, its output parsed. Its control FIFO
// and its JACK client name (--name) are private to this probe, so that a synthfarm the user is
// running (instance 'default') is not disturbed.
std::optional<ProbeResult> run_probe(const std::string& synthfarm, std::uint32_t workers,
                                     std::uint32_t sines, const CapacityOptions& options,
                                     const SearchCondition& condition, std::string& error) {
  const std::string name = unique_run_name();
  const std::filesystem::path directory = std::filesystem::temp_directory_path();
  const std::filesystem::path control = directory / (name + ".control");
  const std::filesystem::path report = directory / (name + ".json");
  char seconds_text[32];
  std::snprintf(seconds_text, sizeof seconds_text, "%g", options.seconds);
  std::vector<std::string> arguments{"--audio",    audio_name(options),
                                     "--workers",  std::to_string(workers),
                                     "--sines",    std::to_string(sines),
                                     "--seed",     "1",
                                     "--duration", seconds_text,
                                     "--kernel",   options.kernel,
                                     "--buffers",  std::to_string(condition.buffers),
                                     "--name",     name,
                                     "--control",  control.string(),
                                     "--report",   report.string(),
                                     "--quiet"};
  if (!options.cpus.empty()) {
    arguments.push_back("--cpus");
    arguments.push_back(options.cpus);
  }
  if (options.audio == CapacityOptions::Audio::kJack) {
    // The server's rate (synthfarm refuses another); no connections, so that a probe needs no
    // physical ports and a server's other clients hear nothing.
    arguments.insert(arguments.end(), {"--sample-rate", std::to_string(options.sample_rate_hz),
                                       "--connect", "none"});
  }
  const auto run = run_synthfarm(
      synthfarm, arguments, error,
      RunSettings{.realtime_allowed = condition.realtime, .failed_exit_is_result = true});
  std::error_code ignored;
  std::filesystem::remove(control, ignored);  // synthfarm removes it; this is in case it died
  ProbeResult probe;
  probe.workers = workers;
  probe.sines_per_worker = sines;
  const bool read = run && read_probe_report(report, run->exit_code, probe, error);
  std::filesystem::remove(report, ignored);
  if (!run) return std::nullopt;
  probe.wall_seconds = run->wall_seconds;
  if (!read) {
    error = std::string("synthfarm --audio ") + audio_name(options) + " --workers " +
            std::to_string(workers) + " --sines " + std::to_string(sines) + ": " + error +
            "; its output:\n" + tail_of(run->output);
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

const char* audio_name(const CapacityOptions& options) {
  return options.audio == CapacityOptions::Audio::kJack ? "jack" : "null";
}

std::optional<std::vector<CapacityResult>> measure_capacity(const CapacityOptions& options,
                                                            const std::string& synthfarm,
                                                            std::string& error) {
  std::vector<CapacityResult> results;
  const std::vector<SearchCondition> conditions = search_conditions(options);
  for (std::uint32_t repeat = 1; repeat <= options.repeats; ++repeat) {
    // The load runs only through the searches that ask for it (search_conditions puts them
    // last): started before the first of them, stopped before any search without it and at
    // the end of each repeat, so that the searches without it see a quiet machine.
    std::optional<BackgroundLoad> load;
    for (const SearchCondition& condition : conditions) {
      if (condition.background_load == 0) {
        load.reset();
      } else if (!load) {
        load.emplace(condition.background_load, error);
        if (!load->started()) return std::nullopt;
      }
      for (const std::uint32_t workers : options.workers) {
        CapacityResult result;
        result.workers = workers;
        result.condition = condition;
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
            outcome = run_probe(synthfarm, workers, sines, options, condition, error);
            if (!outcome) return false;
            ++result.probes;
            if (outcome->passed) break;
            if (attempt < options.attempts) {
              std::fprintf(stderr,
                           "synthfarm-bench: capacity, W=%u S=%u %s: failed (underrun frames %llu, "
                           "device underflows %llu, server xruns %llu%s); probing again\n",
                           workers, sines, condition_text(condition).c_str(),
                           static_cast<unsigned long long>(outcome->underrun_frames),
                           static_cast<unsigned long long>(outcome->device_underflows),
                           static_cast<unsigned long long>(outcome->server_xruns),
                           ended_text(*outcome).c_str());
            }
          }
          std::fprintf(stderr,
                       "synthfarm-bench: capacity, search %u of %u, W=%u S=%u (%llu total) %s: "
                       "%s, underrun frames %llu, device underflows %llu, server xruns %llu, "
                       "late blocks %llu, callback max %.1f us%s\n",
                       repeat, options.repeats, workers, sines,
                       static_cast<unsigned long long>(std::uint64_t{workers} * sines),
                       condition_text(condition).c_str(), outcome->passed ? "pass" : "FAIL",
                       static_cast<unsigned long long>(outcome->underrun_frames),
                       static_cast<unsigned long long>(outcome->device_underflows),
                       static_cast<unsigned long long>(outcome->server_xruns),
                       static_cast<unsigned long long>(outcome->late_blocks),
                       outcome->callback_max_us, ended_text(*outcome).c_str());
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
  }
  return results;
}

std::vector<SearchCondition> search_conditions(const CapacityOptions& options) {
  std::vector<SearchCondition> conditions;
  std::vector<std::uint32_t> loads{0};
  if (options.background_load > 0) loads.push_back(options.background_load);
  std::vector<bool> realtimes;
  if (options.realtime != CapacityOptions::Realtime::kOff) realtimes.push_back(true);
  if (options.realtime != CapacityOptions::Realtime::kOn) realtimes.push_back(false);
  for (const std::uint32_t load : loads) {
    for (const bool realtime : realtimes) {
      for (const std::uint32_t buffers : options.buffers) {
        conditions.push_back({.buffers = buffers, .background_load = load, .realtime = realtime});
      }
    }
  }
  return conditions;
}

double kernel_bound(std::uint32_t cores, double ns_per_oscillator_sample,
                    std::uint32_t sample_rate_hz) {
  if (!(ns_per_oscillator_sample > 0.0)) return 0.0;
  return cores * 1e9 / (ns_per_oscillator_sample * sample_rate_hz);
}

std::optional<OfflineCost> measure_offline_cost(const CapacityOptions& options,
                                                const std::string& synthfarm, std::uint32_t workers,
                                                std::uint32_t sines_per_worker,
                                                std::string& error) {
  const std::string name = unique_run_name();
  const std::filesystem::path directory = std::filesystem::temp_directory_path();
  const std::filesystem::path wav = directory / (name + ".wav");
  const std::filesystem::path report = directory / (name + ".json");
  char seconds_text[32];
  std::snprintf(seconds_text, sizeof seconds_text, "%g",
                std::min(options.seconds, options.offline_seconds));
  const auto run = run_synthfarm(
      synthfarm,
      {"--output", wav.string(), "--workers", std::to_string(workers), "--sines",
       std::to_string(sines_per_worker), "--seed", "1", "--duration", seconds_text, "--kernel",
       options.kernel, "--name", name, "--control", (directory / (name + ".control")).string(),
       "--report", report.string(), "--quiet"},
      error);
  std::error_code ignored;
  std::filesystem::remove(wav, ignored);
  OfflineCost cost;
  cost.workers = workers;
  cost.sines_per_worker = sines_per_worker;
  bool read = false;
  if (run) {
    try {
      std::ifstream file(report);
      const nlohmann::json parsed = nlohmann::json::parse(file);
      cost.block_frames = parsed.at("configuration").at("block_frames").get<std::uint32_t>();
      cost.render_median_ns = median_over_workers(parsed.at("workers"), "median_ns");
      cost.render_mean_ns = median_over_workers(parsed.at("workers"), "mean_ns");
      read = true;
    } catch (const nlohmann::json::exception& failure) {
      error = "the report of the offline render " + report.string() +
              " is not what this bench reads: " + failure.what();
    }
  }
  std::filesystem::remove(report, ignored);
  if (!read) return std::nullopt;
  return cost;
}

std::string condition_text(const SearchCondition& condition) {
  std::string text = "buffers " + std::to_string(condition.buffers);
  text += condition.realtime ? ", real time" : ", no real time";
  if (condition.background_load > 0) {
    text += ", load " + std::to_string(condition.background_load);
  }
  return text;
}

std::vector<CapacitySummary> summarize_capacity(const std::vector<CapacityResult>& searches) {
  std::vector<CapacitySummary> summaries;
  for (const CapacityResult& search : searches) {
    auto summary = std::find_if(summaries.begin(), summaries.end(), [&](const CapacitySummary& s) {
      return s.workers == search.workers && s.condition == search.condition;
    });
    if (summary == summaries.end()) {
      summaries.push_back(CapacitySummary{});
      summary = summaries.end() - 1;
      summary->workers = search.workers;
      summary->condition = search.condition;
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
      if (search.workers == summary.workers && search.condition == summary.condition &&
          search.capacity == summary.median) {
        summary.median_search = search;
        break;
      }
    }
  }
  return summaries;
}

}  // namespace synthfarm::bench
