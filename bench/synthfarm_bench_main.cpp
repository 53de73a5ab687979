// synthfarm-bench: measurements of the whole system, beside the kernel micro-benchmarks.
//   synthfarm-bench mix          the coordinator's mixing cost per audio callback
//   synthfarm-bench throughput   strong and weak scaling of offline renders over 1..N workers
//   synthfarm-bench capacity     the most oscillators each worker count plays in real time
// Every report starts with the machine (CPU, cores, SIMD target) and the load average at start
// and end, because these numbers mean nothing without them. Tables go to stdout, progress to
// stderr; --json and --csv also keep the rows.
//
// Exit codes: 0 success, 1 a measurement failed, 2 bad arguments.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "bench/capacity.h"
#include "bench/machine_info.h"
#include "bench/mix_cost.h"
#include "bench/synthfarm_process.h"
#include "bench/throughput.h"

namespace synthfarm::bench {
namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

constexpr const char* kProgramHelp =
    "Usage: synthfarm-bench COMMAND [OPTIONS]\n"
    "\n"
    "Measures synthfarm as a whole (the kernels have synthfarm-kernel-bench). Each report\n"
    "states the CPU, logical cores, SIMD target and the load average at start and end.\n"
    "\n"
    "Commands:\n"
    "  mix          the coordinator's mixing cost per audio callback, by workers and block size\n"
    "  throughput   strong and weak scaling of offline renders of the real synthfarm binary\n"
    "  capacity     the most oscillators that play in real time without underruns, by workers\n"
    "\n"
    "Run synthfarm-bench COMMAND --help for a command's options.\n"
    "Exit codes: 0 success, 1 a measurement failed, 2 bad arguments.\n";

constexpr const char* kMixHelp =
    "Usage: synthfarm-bench mix [OPTIONS]\n"
    "\n"
    "For each pair of worker count and block size, builds a shared-memory segment and a Mixer\n"
    "as the coordinator does for a sound device (2 channels, 48 kHz, output limited to +-1),\n"
    "writes one block into every worker's ring before each callback as a punctual worker would,\n"
    "and times only the mix() call (steady_clock). Prints the median, 99th percentile and\n"
    "maximum nanoseconds per callback, and as a share of the period (block / 48000 s) and of\n"
    "the real-time budget (70 % of the period).\n"
    "\n"
    "Options:\n"
    "  --workers LIST     worker counts, comma-separated, 1 to 1024. Default 1,2,4,8,16,32,64.\n"
    "  --blocks LIST      block sizes in frames, comma-separated, 16 to 8192.\n"
    "                     Default 64,128,256,512.\n"
    "  --callbacks N      timed callbacks per configuration (after an untimed warm-up of a tenth\n"
    "                     as many, at least 200). Default 20000, fewer where workers x block is\n"
    "                     large (about 1e9 frames per configuration, at least 2000).\n"
    "  --json FILE        also write the results as JSON. Default: not written.\n"
    "  --csv FILE         also write the results as CSV. Default: not written.\n"
    "  -h, --help         this text.\n";

constexpr const char* kThroughputHelp =
    "Usage: synthfarm-bench throughput [OPTIONS]\n"
    "\n"
    "Runs the synthfarm binary beside this one offline (synthfarm --output TMP.wav --duration S\n"
    "--seed 1) for 1..N workers: strong scaling (a fixed total of oscillators split over the\n"
    "workers) then weak scaling (a fixed number per worker). Measures the wall time and the CPU\n"
    "time (user + system of synthfarm and its workers, from wait4). The WAV files are deleted.\n"
    "\n"
    "  speed-up     oscillators rendered per wall second, relative to 1 worker. Strong scaling:\n"
    "               T1 / TW (corrected for rounding the total); weak: W x T1 / TW.\n"
    "  efficiency   speed-up / min(W, logical cores): 1 is perfect; past the core count the\n"
    "               ideal speed-up stays at the core count.\n"
    "\n"
    "Options:\n"
    "  --max-workers N     largest worker count, 1 to 256. Default 2 x logical cores.\n"
    "  --oscillators N     strong scaling: total oscillators, split into N / W per worker\n"
    "                      (rounded; the table shows the actual total). Default 200000.\n"
    "  --per-worker N      weak scaling: oscillators per worker. Default 50000.\n"
    "  --seconds S         seconds of audio each run renders (synthfarm --duration), 0.01 to\n"
    "                      3600. Default 5.\n"
    "  --kernel K          synthfarm --kernel: fast or exact. Default fast.\n"
    "  --repeat N          runs of every configuration, 1 to 100, interleaved (all worker\n"
    "                      counts once, then again); the table shows medians and the range.\n"
    "                      Default 3.\n"
    "  --json FILE         also write the results as JSON. Default: not written.\n"
    "  --csv FILE          also write the results as CSV. Default: not written.\n"
    "  -h, --help          this text.\n";

constexpr const char* kCapacityHelp =
    "Usage: synthfarm-bench capacity [OPTIONS]\n"
    "\n"
    "For each worker count, searches the largest total of oscillators that plays in real time\n"
    "with zero underruns: runs the synthfarm binary beside this one on its null clock\n"
    "(synthfarm --audio null --duration S --seed 1; 48 kHz, 256-frame buffers) and reads its\n"
    "--report JSON. A probe passes when no worker has an underrun frame and the clock has no\n"
    "device underflow (a wake more than one period late, so a buffer was skipped).\n"
    "The search starts at 1000 oscillators in total, doubles until a count fails (--attempts\n"
    "probes in a row fail) or the maximum is reached, then bisects. Counts are per worker,\n"
    "so totals are multiples of W.\n"
    "\n"
    "Reports the capacity (total and per worker), the probes run, the callback's average and\n"
    "maximum time as a share of the period and the workers' render load at that point, and\n"
    "the wall time of the searches. One probe is one sample of a noisy machine: longer probes\n"
    "give steadier, usually lower, capacities, and repeats show the spread.\n"
    "\n"
    "Options:\n"
    "  --workers LIST         worker counts, comma-separated, 1 to 256.\n"
    "                         Default 1,2,...,2 x logical cores.\n"
    "  --seconds S            seconds each probe plays (synthfarm --duration), 0.01 to 3600.\n"
    "                         Default 5.\n"
    "  --kernel K             synthfarm --kernel: fast or exact. Default fast.\n"
    "  --max-oscillators N    largest total of oscillators tried, 1 to 100000000; the search\n"
    "                         stops there. Default 1000000.\n"
    "  --precision P          stop bisecting when the first failure is within P percent of\n"
    "                         the last pass, 0.1 to 1000 ('5' or '5%'). Default 5.\n"
    "  --attempts N           probes of one count before it counts as failed, 1 to 10: a count\n"
    "                         passes when any of them has no underrun, so that one stall of\n"
    "                         a shared machine does not decide the search. Default 2.\n"
    "  --repeat N             whole searches per worker count, 1 to 100, interleaved (every\n"
    "                         count once, then again); the table shows the median capacity\n"
    "                         and the range, and the loads of the median search. Default 3.\n"
    "  --json FILE            also write the results as JSON. Default: not written.\n"
    "  --csv FILE             also write the results as CSV. Default: not written.\n"
    "  -h, --help             this text.\n";

struct OutputFiles {
  std::string json;
  std::string csv;
};

struct MixCommand {
  MixCostOptions options;
  OutputFiles files;
};

struct ThroughputCommand {
  ThroughputOptions options;
  OutputFiles files;
};

struct CapacityCommand {
  CapacityOptions options;
  OutputFiles files;
};

struct HelpRequest {
  const char* text;
};

struct CliError {
  std::string message;
};

using Cli = std::variant<MixCommand, ThroughputCommand, CapacityCommand, HelpRequest, CliError>;

std::optional<std::uint64_t> parse_whole(std::string_view text, std::uint64_t low,
                                         std::uint64_t high) {
  std::uint64_t value = 0;
  const auto [end, failure] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (failure != std::errc() || end != text.data() + text.size() || value < low || value > high) {
    return std::nullopt;
  }
  return value;
}

std::optional<std::vector<std::uint32_t>> parse_list(std::string_view text, std::uint32_t low,
                                                     std::uint32_t high) {
  std::vector<std::uint32_t> values;
  while (true) {
    const auto comma = text.find(',');
    const auto value = parse_whole(text.substr(0, comma), low, high);
    if (!value) return std::nullopt;
    values.push_back(static_cast<std::uint32_t>(*value));
    if (comma == std::string_view::npos) return values;
    text.remove_prefix(comma + 1);
  }
}

std::string range_text(std::uint64_t low, std::uint64_t high) {
  return std::to_string(low) + " to " + std::to_string(high);
}

std::optional<double> parse_real(std::string_view text, double low, double high) {
  const std::string copy(text);
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || *end != '\0' || !(value >= low && value <= high)) return std::nullopt;
  return value;
}

// Pure: returns the command or an error message; never prints or exits.
Cli parse_cli(int argc, char** argv) {
  if (argc < 2) return CliError{"no command given (mix, throughput or capacity)"};
  const std::string_view command = argv[1];
  if (command == "-h" || command == "--help" || command == "help") return HelpRequest{kProgramHelp};
  const bool mix = command == "mix";
  const bool capacity = command == "capacity";
  if (!mix && !capacity && command != "throughput") {
    return CliError{"unknown command '" + std::string(command) +
                    "' (choose mix, throughput or capacity)"};
  }
  MixCommand mix_command;
  ThroughputCommand throughput_command;
  CapacityCommand capacity_command;
  OutputFiles& files = mix        ? mix_command.files
                       : capacity ? capacity_command.files
                                  : throughput_command.files;
  ThroughputOptions& throughput = throughput_command.options;
  CapacityOptions& search = capacity_command.options;
  for (int i = 2; i < argc; ++i) {
    const std::string_view option = argv[i];
    if (option == "-h" || option == "--help") {
      return HelpRequest{mix ? kMixHelp : capacity ? kCapacityHelp : kThroughputHelp};
    }
    const auto known = [&](std::initializer_list<std::string_view> names) {
      for (std::string_view name : names) {
        if (option == name) return true;
      }
      return false;
    };
    const bool takes_value =
        known({"--json", "--csv"}) ||
        (mix        ? known({"--workers", "--blocks", "--callbacks"})
         : capacity ? known({"--workers", "--seconds", "--kernel", "--max-oscillators",
                             "--precision", "--repeat", "--attempts"})
                    : known({"--max-workers", "--oscillators", "--per-worker", "--seconds",
                             "--kernel", "--repeat"}));
    if (!takes_value) {
      return CliError{"unknown option '" + std::string(option) + "' for " + std::string(command)};
    }
    if (i + 1 >= argc) return CliError{std::string(option) + " needs a value"};
    const std::string_view value = argv[++i];
    const auto bad = [&](const std::string& expected) {
      return CliError{std::string(option) + " needs " + expected + ", not '" + std::string(value) +
                      "'"};
    };
    if (option == "--json") {
      files.json = value;
    } else if (option == "--csv") {
      files.csv = value;
    } else if (option == "--workers" && capacity) {
      // synthfarm's own limit.
      const auto list = parse_list(value, 1, 256);
      if (!list) return bad("a comma-separated list of whole numbers " + range_text(1, 256));
      search.workers = *list;
    } else if (option == "--workers") {
      const auto list = parse_list(value, 1, 1024);
      if (!list) return bad("a comma-separated list of whole numbers " + range_text(1, 1024));
      mix_command.options.workers = *list;
    } else if (option == "--blocks") {
      const auto list = parse_list(value, 16, 8192);
      if (!list) return bad("a comma-separated list of frame counts " + range_text(16, 8192));
      mix_command.options.block_frames = *list;
    } else if (option == "--callbacks") {
      const auto callbacks = parse_whole(value, 1, 100'000'000);
      if (!callbacks) return bad("a whole number " + range_text(1, 100'000'000));
      mix_command.options.callbacks = static_cast<std::uint32_t>(*callbacks);
    } else if (option == "--max-workers") {
      const auto workers = parse_whole(value, 1, 256);
      if (!workers) return bad("a whole number " + range_text(1, 256));
      throughput.max_workers = static_cast<std::uint32_t>(*workers);
    } else if (option == "--oscillators") {
      const auto total = parse_whole(value, 1, 100'000'000);
      if (!total) return bad("a whole number " + range_text(1, 100'000'000));
      throughput.total_oscillators = *total;
    } else if (option == "--per-worker") {
      const auto per_worker = parse_whole(value, 1, 10'000'000);
      if (!per_worker) return bad("a whole number " + range_text(1, 10'000'000));
      throughput.per_worker = static_cast<std::uint32_t>(*per_worker);
    } else if (option == "--max-oscillators") {
      const auto total = parse_whole(value, 1, 100'000'000);
      if (!total) return bad("a whole number " + range_text(1, 100'000'000));
      search.max_oscillators = *total;
    } else if (option == "--precision") {
      // A percentage, with or without its sign: "5" and "5%" are both 5 %.
      const std::string_view number =
          value.ends_with('%') ? value.substr(0, value.size() - 1) : value;
      const auto percent = parse_real(number, 0.1, 1000);
      if (!percent) return bad("a percentage from 0.1 to 1000");
      search.precision = *percent / 100;
    } else if (option == "--seconds") {
      const auto seconds = parse_real(value, 0.01, 3600);
      if (!seconds) return bad("a number of seconds from 0.01 to 3600");
      throughput.seconds = *seconds;
      search.seconds = *seconds;
    } else if (option == "--attempts") {
      const auto attempts = parse_whole(value, 1, 10);
      if (!attempts) return bad("a whole number " + range_text(1, 10));
      search.attempts = static_cast<std::uint32_t>(*attempts);
    } else if (option == "--repeat") {
      const auto repeats = parse_whole(value, 1, 100);
      if (!repeats) return bad("a whole number " + range_text(1, 100));
      throughput.repeats = static_cast<std::uint32_t>(*repeats);
      search.repeats = static_cast<std::uint32_t>(*repeats);
    } else if (option == "--kernel") {
      if (value != "fast" && value != "exact") return bad("fast or exact");
      throughput.kernel = value;
      search.kernel = value;
    }
  }
  if (mix) return mix_command;
  if (capacity) {
    for (const std::uint32_t workers : search.workers) {
      if (search.max_oscillators < workers) {
        return CliError{"--max-oscillators " + std::to_string(search.max_oscillators) +
                        " is fewer than " + std::to_string(workers) +
                        " workers: every worker needs at least one"};
      }
    }
    return capacity_command;
  }
  if (throughput.total_oscillators < throughput.max_workers) {
    return CliError{"--oscillators " + std::to_string(throughput.total_oscillators) +
                    " is fewer than --max-workers: every worker needs at least one"};
  }
  return throughput_command;
}

void print_machine(const MachineInfo& machine, const LoadAverage& start, const LoadAverage& end,
                   const std::string& kernel) {
  std::printf("machine:      %s, %u logical CPUs\n", machine.cpu_model.c_str(),
              machine.logical_cores);
  std::printf("SIMD target:  %s (the best this CPU runs); kernel: %s\n",
              machine.simd_target.c_str(), kernel.c_str());
  std::printf("load average: %s at start, %s at end (1, 5, 15 minutes)\n",
              format_load(start).c_str(), format_load(end).c_str());
}

nlohmann::json machine_json(const MachineInfo& machine, const LoadAverage& start,
                            const LoadAverage& end) {
  const auto load = [](const LoadAverage& l) {
    return nlohmann::json::array({l.one_minute, l.five_minutes, l.fifteen_minutes});
  };
  return {{"cpu_model", machine.cpu_model},
          {"logical_cores", machine.logical_cores},
          {"simd_target", machine.simd_target},
          {"load_average_start", load(start)},
          {"load_average_end", load(end)}};
}

bool write_text(const std::string& path, const std::string& text, const char* what) {
  std::ofstream file(path);
  file << text;
  file.close();
  if (!file) {
    std::fprintf(stderr, "synthfarm-bench: cannot write --%s %s: %s\n", what, path.c_str(),
                 std::strerror(errno));
    return false;
  }
  return true;
}

// Writes the report to --json and the rows to --csv, those that were asked for. Returns the
// exit code: a file that cannot be written is a failure, after both were tried.
int write_reports(const OutputFiles& files, const nlohmann::json& report, const std::string& csv) {
  bool written = true;
  if (!files.json.empty()) written = write_text(files.json, report.dump(2) + "\n", "json");
  if (!files.csv.empty()) written = write_text(files.csv, csv, "csv") && written;
  return written ? 0 : kExitFailure;
}

// Finds synthfarm beside this program and runs `measure(synthfarm, error)` between two readings
// of the load average. A failure is reported on stderr and gives an empty result.
template <typename Measure>
auto measure_with_synthfarm(Measure measure, std::string& synthfarm, LoadAverage& load_start,
                            LoadAverage& load_end)
    -> decltype(measure(std::string(), std::declval<std::string&>())) {
  std::string error;
  const auto found = synthfarm_beside_self(error);
  if (!found) {
    std::fprintf(stderr, "synthfarm-bench: %s\n", error.c_str());
    return std::nullopt;
  }
  synthfarm = *found;
  load_start = read_load_average();
  auto results = measure(synthfarm, error);
  load_end = read_load_average();
  if (!results) std::fprintf(stderr, "synthfarm-bench: %s\n", error.c_str());
  return results;
}

int run_mix(const MixCommand& command) {
  const MachineInfo machine = read_machine_info();
  const LoadAverage load_start = read_load_average();
  std::vector<MixCostResult> results;
  for (const std::uint32_t block : command.options.block_frames) {
    for (const std::uint32_t workers : command.options.workers) {
      const std::uint32_t callbacks =
          command.options.callbacks.value_or(default_callbacks(workers, block));
      std::fprintf(stderr, "synthfarm-bench: mix, %u worker(s), block %u, %u callbacks...\n",
                   workers, block, callbacks);
      std::string error;
      const auto result = measure_mix_cost(workers, block, callbacks, command.options, error);
      if (!result) {
        std::fprintf(stderr, "synthfarm-bench: mix with %u workers, block %u: %s\n", workers, block,
                     error.c_str());
        return kExitFailure;
      }
      results.push_back(*result);
    }
  }
  const LoadAverage load_end = read_load_average();

  print_machine(machine, load_start, load_end, "not used (mixing only)");
  std::printf(
      "measure:      steady_clock around each Mixer::mix call; 2 channels, 48 kHz, "
      "output limited; budget = %.0f %% of the period\n\n",
      100 * kBudgetShareOfPeriod);
  std::printf("%7s %5s %9s %10s %10s %10s %8s %8s %8s %8s %8s\n", "workers", "block", "callbacks",
              "median ns", "p99 ns", "max ns", "med %per", "p99 %per", "max %per", "p99 %bud",
              "max %bud");
  nlohmann::json rows = nlohmann::json::array();
  std::string csv =
      "workers,block_frames,callbacks,median_ns,p99_ns,max_ns,period_ns,median_share_of_period,"
      "p99_share_of_period,max_share_of_period,p99_share_of_budget,max_share_of_budget\n";
  for (const MixCostResult& r : results) {
    const double budget_ns = kBudgetShareOfPeriod * r.period_ns;
    std::printf("%7u %5u %9u %10.0f %10.0f %10.0f %8.3f %8.3f %8.3f %8.3f %8.3f\n", r.workers,
                r.block_frames, r.callbacks, r.median_ns, r.p99_ns, r.max_ns,
                100 * r.median_ns / r.period_ns, 100 * r.p99_ns / r.period_ns,
                100 * r.max_ns / r.period_ns, 100 * r.p99_ns / budget_ns,
                100 * r.max_ns / budget_ns);
    rows.push_back({{"workers", r.workers},
                    {"block_frames", r.block_frames},
                    {"callbacks", r.callbacks},
                    {"median_ns", r.median_ns},
                    {"p99_ns", r.p99_ns},
                    {"max_ns", r.max_ns},
                    {"period_ns", r.period_ns},
                    {"budget_ns", budget_ns}});
    char line[512];
    std::snprintf(line, sizeof line, "%u,%u,%u,%.0f,%.0f,%.0f,%.1f,%.6f,%.6f,%.6f,%.6f,%.6f\n",
                  r.workers, r.block_frames, r.callbacks, r.median_ns, r.p99_ns, r.max_ns,
                  r.period_ns, r.median_ns / r.period_ns, r.p99_ns / r.period_ns,
                  r.max_ns / r.period_ns, r.p99_ns / budget_ns, r.max_ns / budget_ns);
    csv += line;
  }
  std::printf("\n%%per: share of the period (block / 48000 s); %%bud: share of the budget.\n");
  const nlohmann::json report = {{"benchmark", "mix"},
                                 {"machine", machine_json(machine, load_start, load_end)},
                                 {"sample_rate_hz", command.options.sample_rate_hz},
                                 {"channels", command.options.channels},
                                 {"budget_share_of_period", kBudgetShareOfPeriod},
                                 {"results", rows}};
  return write_reports(command.files, report, csv);
}

int run_throughput(ThroughputCommand command) {
  const MachineInfo machine = read_machine_info();
  ThroughputOptions& options = command.options;
  if (options.max_workers == 0) options.max_workers = 2 * machine.logical_cores;
  if (options.total_oscillators < options.max_workers) {
    std::fprintf(stderr, "synthfarm-bench: --oscillators %llu is fewer than the %u workers\n",
                 static_cast<unsigned long long>(options.total_oscillators), options.max_workers);
    return kExitUsage;
  }
  std::string synthfarm;
  LoadAverage load_start;
  LoadAverage load_end;
  const auto results = measure_with_synthfarm(
      [&](const std::string& program, std::string& error) {
        return measure_throughput(options, program, machine.logical_cores, error);
      },
      synthfarm, load_start, load_end);
  if (!results) return kExitFailure;

  print_machine(machine, load_start, load_end, options.kernel);
  std::printf(
      "measure:      %s --output TMP.wav --duration %g --seed 1: wall time around the "
      "process, CPU time from wait4 (synthfarm and its workers)\n",
      synthfarm.c_str(), options.seconds);
  std::printf(
      "repeats:      %u runs of each configuration, interleaved; medians, and the range of the "
      "wall times\n",
      options.repeats);
  std::printf(
      "speed-up:     oscillators per wall second relative to 1 worker (medians); efficiency = "
      "speed-up / min(W, %u cores)\n\n",
      machine.logical_cores);
  std::printf("%-7s %7s %10s %12s %8s %15s %8s %8s %8s %10s\n", "scaling", "workers", "osc/worker",
              "total osc", "wall s", "wall range", "CPU s", "speed-up", "effic.", "Mosc-smp/s");
  nlohmann::json rows = nlohmann::json::array();
  std::string csv =
      "scaling,workers,sines_per_worker,total_oscillators,wall_seconds,wall_min_seconds,"
      "wall_max_seconds,cpu_seconds,speedup,efficiency,oscillator_samples_per_second,repeats\n";
  for (const ThroughputResult& r : *results) {
    const char* scaling = r.scaling == Scaling::kStrong ? "strong" : "weak";
    // Oscillator-samples rendered per (median) wall second, startup included.
    const double rate = static_cast<double>(r.total_oscillators) * options.seconds *
                        options.sample_rate_hz / r.wall_seconds;
    const auto [wall_min, wall_max] =
        std::minmax_element(r.wall_samples.begin(), r.wall_samples.end());
    char range[64];
    std::snprintf(range, sizeof range, "%.2f-%.2f", *wall_min, *wall_max);
    std::printf("%-7s %7u %10u %12llu %8.2f %15s %8.2f %8.2f %8.2f %10.1f\n", scaling, r.workers,
                r.sines_per_worker, static_cast<unsigned long long>(r.total_oscillators),
                r.wall_seconds, range, r.cpu_seconds, r.speedup, r.efficiency, rate / 1e6);
    rows.push_back({{"scaling", scaling},
                    {"workers", r.workers},
                    {"sines_per_worker", r.sines_per_worker},
                    {"total_oscillators", r.total_oscillators},
                    {"wall_seconds", r.wall_seconds},
                    {"cpu_seconds", r.cpu_seconds},
                    {"wall_samples", r.wall_samples},
                    {"cpu_samples", r.cpu_samples},
                    {"speedup", r.speedup},
                    {"efficiency", r.efficiency},
                    {"oscillator_samples_per_second", rate}});
    char line[512];
    std::snprintf(line, sizeof line, "%s,%u,%u,%llu,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.0f,%u\n",
                  scaling, r.workers, r.sines_per_worker,
                  static_cast<unsigned long long>(r.total_oscillators), r.wall_seconds, *wall_min,
                  *wall_max, r.cpu_seconds, r.speedup, r.efficiency, rate, options.repeats);
    csv += line;
  }
  const nlohmann::json report = {{"benchmark", "throughput"},
                                 {"machine", machine_json(machine, load_start, load_end)},
                                 {"kernel", options.kernel},
                                 {"seconds", options.seconds},
                                 {"repeats", options.repeats},
                                 {"max_workers", options.max_workers},
                                 {"oscillators", options.total_oscillators},
                                 {"per_worker", options.per_worker},
                                 {"results", rows}};
  return write_reports(command.files, report, csv);
}

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
  std::string synthfarm;
  LoadAverage load_start;
  LoadAverage load_end;
  const auto results = measure_with_synthfarm(
      [&](const std::string& program, std::string& error) {
        return measure_capacity(options, program, error);
      },
      synthfarm, load_start, load_end);
  if (!results) return kExitFailure;

  print_machine(machine, load_start, load_end, options.kernel);
  std::printf(
      "measure:      %s --audio null --duration %g --seed 1 (48 kHz, 256-frame buffers); a "
      "probe passes with 0 underrun frames and 0 device underflows\n",
      synthfarm.c_str(), options.seconds);
  std::printf(
      "search:       from %llu in total, doubling to at most %llu, then bisecting to within "
      "%g %%; %u searches per worker count, interleaved; a count fails after %u failed "
      "probes in a row\n\n",
      static_cast<unsigned long long>(options.start_oscillators),
      static_cast<unsigned long long>(options.max_oscillators), 100 * options.precision,
      options.repeats, options.attempts);
  std::printf("%7s %10s %17s %10s %10s %6s %8s %8s %8s %8s %7s\n", "workers", "capacity", "range",
              "per worker", "failed at", "probes", "cb avg%", "cb max%", "load avg", "load max",
              "wall s");
  nlohmann::json rows = nlohmann::json::array();
  std::string csv =
      "workers,capacity,capacity_min,capacity_max,searches,sines_per_worker,first_failure,probes,"
      "callback_avg_us,callback_max_us,period_us,callback_avg_share_of_period,"
      "callback_max_share_of_period,render_load_avg_percent,render_load_max_percent,"
      "wall_seconds\n";
  const auto search_json = [](const CapacityResult& r) {
    return nlohmann::json{{"repeat", r.repeat},
                          {"capacity", r.capacity},
                          {"sines_per_worker", r.sines_per_worker},
                          {"first_failure", r.first_failure},
                          {"probes", r.probes},
                          {"wall_seconds", r.wall_seconds}};
  };
  for (const CapacitySummary& summary : summarize_capacity(*results)) {
    const CapacityResult& r = summary.median_search;
    // Without a passing probe there is no load to report: NaN in the table, null in JSON.
    const double nan = std::nan("");
    const ProbeResult at = r.at_capacity.value_or(ProbeResult{});
    const bool has = r.at_capacity.has_value();
    const double avg_share = has ? at.callback_avg_us / at.period_us : nan;
    const double max_share = has ? at.callback_max_us / at.period_us : nan;
    const std::string failed_at =
        r.first_failure ? std::to_string(r.first_failure) : std::string("none");
    const std::string range = std::to_string(summary.min) + "-" + std::to_string(summary.max);
    double wall_seconds = 0.0;
    unsigned probes = 0;
    nlohmann::json searches = nlohmann::json::array();
    for (const CapacityResult& search : *results) {
      if (search.workers != summary.workers) continue;
      wall_seconds += search.wall_seconds;
      probes += search.probes;
      searches.push_back(search_json(search));
    }
    std::printf("%7u %10llu %17s %10u %10s %6u %8.2f %8.2f %7.1f%% %7.1f%% %7.1f\n", r.workers,
                static_cast<unsigned long long>(summary.median), range.c_str(), r.sines_per_worker,
                failed_at.c_str(), probes, 100 * avg_share, 100 * max_share,
                has ? at.render_load_avg_percent : nan, has ? at.render_load_max_percent : nan,
                wall_seconds);
    nlohmann::json row = {{"workers", r.workers},
                          {"capacity", summary.median},
                          {"capacity_min", summary.min},
                          {"capacity_max", summary.max},
                          {"capacities", summary.capacities},
                          {"sines_per_worker", r.sines_per_worker},
                          {"first_failure", r.first_failure},
                          {"probes", probes},
                          {"wall_seconds", wall_seconds},
                          {"searches", searches}};
    if (has) {
      row["callbacks"] = at.callbacks;
      row["callback_avg_us"] = at.callback_avg_us;
      row["callback_max_us"] = at.callback_max_us;
      row["period_us"] = at.period_us;
      row["callback_avg_share_of_period"] = avg_share;
      row["callback_max_share_of_period"] = max_share;
      row["render_load_avg_percent"] = at.render_load_avg_percent;
      row["render_load_max_percent"] = at.render_load_max_percent;
      row["late_blocks"] = at.late_blocks;
    }
    rows.push_back(row);
    char line[512];
    std::snprintf(line, sizeof line,
                  "%u,%llu,%llu,%llu,%zu,%u,%llu,%u,%.1f,%.1f,%.1f,%.6f,%.6f,%.1f,%.1f,%.3f\n",
                  r.workers, static_cast<unsigned long long>(summary.median),
                  static_cast<unsigned long long>(summary.min),
                  static_cast<unsigned long long>(summary.max), summary.capacities.size(),
                  r.sines_per_worker, static_cast<unsigned long long>(r.first_failure), probes,
                  has ? at.callback_avg_us : nan, has ? at.callback_max_us : nan,
                  has ? at.period_us : nan, avg_share, max_share,
                  has ? at.render_load_avg_percent : nan, has ? at.render_load_max_percent : nan,
                  wall_seconds);
    csv += line;
  }
  std::printf(
      "\ncapacity: total oscillators of the largest passing probe, median of the searches (range: "
      "lowest-highest); failed at: the smallest failing one of the median search (none: the "
      "maximum passed).\ncb avg%%, cb max%%: the callback's time as a share of the period at the "
      "median search's capacity; load: the workers' render_load there (mean, busiest). probes "
      "and wall s: all searches together.\n");
  const nlohmann::json report = {{"benchmark", "capacity"},
                                 {"machine", machine_json(machine, load_start, load_end)},
                                 {"kernel", options.kernel},
                                 {"seconds", options.seconds},
                                 {"repeats", options.repeats},
                                 {"attempts", options.attempts},
                                 {"sample_rate_hz", 48000},
                                 {"block_frames", 256},
                                 {"start_oscillators", options.start_oscillators},
                                 {"max_oscillators", options.max_oscillators},
                                 {"precision", options.precision},
                                 {"results", rows}};
  return write_reports(command.files, report, csv);
}

}  // namespace
}  // namespace synthfarm::bench

int main(int argc, char** argv) {
  using namespace synthfarm::bench;
  const Cli cli = parse_cli(argc, argv);
  if (const auto* error = std::get_if<CliError>(&cli)) {
    // Point at the help of the command the arguments were for, when there was one.
    const std::string_view command = argc > 1 ? argv[1] : "";
    const std::string help = command == "mix" || command == "throughput" || command == "capacity"
                                 ? "synthfarm-bench " + std::string(command) + " --help"
                                 : std::string("synthfarm-bench --help");
    std::fprintf(stderr, "synthfarm-bench: %s\nrun %s for the options\n", error->message.c_str(),
                 help.c_str());
    return kExitUsage;
  }
  if (const auto* help = std::get_if<HelpRequest>(&cli)) {
    std::fputs(help->text, stdout);
    return 0;
  }
  if (const auto* mix = std::get_if<MixCommand>(&cli)) return run_mix(*mix);
  if (const auto* capacity = std::get_if<CapacityCommand>(&cli)) return run_capacity(*capacity);
  return run_throughput(std::get<ThroughputCommand>(cli));
}
