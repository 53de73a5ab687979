#include "bench/bench_cli.h"

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <vector>

#include "bench/idle_wake_probe.h"
#include "coordinator/plan/cpu_list.h"
#include "shared/parameter_ranges.h"

namespace synthfarm::bench {
namespace {

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
    "(synthfarm --audio null --duration S --seed 1; 48 kHz, 256-frame buffers) or on a JACK\n"
    "server (--audio jack: its rate and period) and reads its --report JSON. A probe passes\n"
    "when no worker has an underrun frame, the clock has no device underflow (a wake more\n"
    "than one period late, so a buffer was skipped) and the JACK server counted no xrun.\n"
    "The search starts at 1000 oscillators in total, doubles until a count fails (--attempts\n"
    "probes in a row fail) or the maximum is reached, then bisects. Counts are per worker,\n"
    "so totals are multiples of W.\n"
    "\n"
    "Reports the capacity (total and per worker), the probes run, the callback's average and\n"
    "maximum time as a share of the period and the workers' render load at that point, and\n"
    "the wall time of the searches. One probe is one sample of a noisy machine: longer probes\n"
    "give steadier, usually lower, capacities, and repeats show the spread.\n"
    "\n"
    "The kernel bound: after the searches, the median capacity of each row is rendered offline\n"
    "(synthfarm --output, at most 5 s of audio, no background load); its median block costs\n"
    "N ns per oscillator-sample, and min(W, CPUs) cores could render cores x 1e9 / (N x 48000)\n"
    "oscillators in real time (48000: the output's sample rate, the JACK server's with\n"
    "--audio jack). The capacity is reported as a share of that bound, and the\n"
    "live block's cost (the median block of the probe at capacity) beside the offline one,\n"
    "and the same from the mean blocks (the median is a histogram's, exact to about 4 %).\n"
    "\n"
    "Options:\n"
    "  --workers LIST         worker counts, comma-separated, 1 to 256.\n"
    "                         Default 1,2,...,2 x logical cores.\n"
    "  --audio A              null: synthfarm's null clock (48 kHz, 256 frames, no server\n"
    "                         needed); jack: the JACK server JACK_DEFAULT_SERVER names\n"
    "                         ('default' when unset; it must be running), at its sample rate\n"
    "                         and period, synthfarm's ports connected to nothing\n"
    "                         (--connect none). The audio thread is then JACK's, in\n"
    "                         synthfarm's process: real time when the server is (jackd -R)\n"
    "                         and --realtime is on; off takes it from that thread too.\n"
    "                         Default null.\n"
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
    "  --repeat N             whole searches per worker count and condition, 1 to 100,\n"
    "                         interleaved (every one once, then again); the table shows the\n"
    "                         median capacity and the range, and the loads of the median\n"
    "                         search. Default 3.\n"
    "  --buffers LIST         synthfarm --buffers (the latency: buffers rendered ahead),\n"
    "                         comma-separated, 1 to 16; each a search of its own.\n"
    "                         Default 2,3,4.\n"
    "  --cpus LIST            synthfarm --cpus for every probe (e.g. 0,1: worker N on the Nth\n"
    "                         CPU). Default: not given (unpinned).\n"
    "  --background-load N    also search with N busy processes at normal priority beside\n"
    "                         synthfarm (/usr/bin/yes > /dev/null, started and killed by the\n"
    "                         bench), 0 to 64: rows with load 0 and load N side by side.\n"
    "                         Default 0 (none).\n"
    "  --wake-probe S         before the searches, measure for S seconds how late every CPU\n"
    "                         this process may use (whatever --cpus) wakes a 1 ms timer when\n"
    "                         it has nothing else to do; 0 skips it, else 0.05 to 120. When\n"
    "                         wake-ups come later than a probe survives (a period on the null\n"
    "                         clock; with --audio jack what a block has to spare at the\n"
    "                         smallest --buffers), the report says so: capacity at that\n"
    "                         latency is then the machine's limit. Default 5.\n"
    "  --realtime MODE        on: synthfarm schedules as it does for a user allowed real time;\n"
    "                         off: as for one who is not (RLIMIT_RTPRIO 0, no CAP_SYS_NICE,\n"
    "                         SYNTHFARM_REALTIME=off); both: each a search of its own.\n"
    "                         Default on.\n"
    "  --json FILE            also write the results as JSON. Default: not written.\n"
    "  --csv FILE             also write the results as CSV. Default: not written.\n"
    "  -h, --help             this text.\n";

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

std::string bounds_text(std::uint64_t low, std::uint64_t high) {
  return std::to_string(low) + " to " + std::to_string(high);
}

std::optional<double> parse_real(std::string_view text, double low, double high) {
  const std::string copy(text);
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || *end != '\0' || !(value >= low && value <= high)) return std::nullopt;
  return value;
}

}  // namespace

BenchCli parse_bench_cli(int argc, char** argv) {
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
         : capacity ? known({"--workers", "--audio", "--seconds", "--kernel", "--max-oscillators",
                             "--precision", "--repeat", "--attempts", "--buffers", "--cpus",
                             "--background-load", "--realtime", "--wake-probe"})
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
      if (!list) return bad("a comma-separated list of whole numbers " + bounds_text(1, 256));
      search.workers = *list;
    } else if (option == "--workers") {
      const auto list = parse_list(value, 1, 1024);
      if (!list) return bad("a comma-separated list of whole numbers " + bounds_text(1, 1024));
      mix_command.options.workers = *list;
    } else if (option == "--blocks") {
      const auto list = parse_list(value, 16, 8192);
      if (!list) return bad("a comma-separated list of frame counts " + bounds_text(16, 8192));
      mix_command.options.block_frames = *list;
    } else if (option == "--callbacks") {
      const auto callbacks = parse_whole(value, 1, 100'000'000);
      if (!callbacks) return bad("a whole number " + bounds_text(1, 100'000'000));
      mix_command.options.callbacks = static_cast<std::uint32_t>(*callbacks);
    } else if (option == "--max-workers") {
      const auto workers = parse_whole(value, 1, 256);
      if (!workers) return bad("a whole number " + bounds_text(1, 256));
      throughput.max_workers = static_cast<std::uint32_t>(*workers);
    } else if (option == "--oscillators") {
      const auto total = parse_whole(value, 1, 100'000'000);
      if (!total) return bad("a whole number " + bounds_text(1, 100'000'000));
      throughput.total_oscillators = *total;
    } else if (option == "--per-worker") {
      const auto per_worker = parse_whole(value, 1, 10'000'000);
      if (!per_worker) return bad("a whole number " + bounds_text(1, 10'000'000));
      throughput.per_worker = static_cast<std::uint32_t>(*per_worker);
    } else if (option == "--max-oscillators") {
      const auto total = parse_whole(value, 1, 100'000'000);
      if (!total) return bad("a whole number " + bounds_text(1, 100'000'000));
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
      if (!attempts) return bad("a whole number " + bounds_text(1, 10));
      search.attempts = static_cast<std::uint32_t>(*attempts);
    } else if (option == "--repeat") {
      const auto repeats = parse_whole(value, 1, 100);
      if (!repeats) return bad("a whole number " + bounds_text(1, 100));
      throughput.repeats = static_cast<std::uint32_t>(*repeats);
      search.repeats = static_cast<std::uint32_t>(*repeats);
    } else if (option == "--buffers") {
      const auto list = parse_list(value, kMinBuffers, kMaxBuffers);
      if (!list) {
        return bad("a comma-separated list of buffer counts " +
                   bounds_text(kMinBuffers, kMaxBuffers));
      }
      search.buffers = *list;
    } else if (option == "--cpus") {
      std::string why;
      if (!parse_cpu_list(value, why)) return bad("a CPU list like 0,1 or 0-3 (" + why + ")");
      search.cpus = value;
    } else if (option == "--background-load") {
      const auto processes = parse_whole(value, 0, 64);
      if (!processes) return bad("a whole number " + bounds_text(0, 64));
      search.background_load = static_cast<std::uint32_t>(*processes);
    } else if (option == "--wake-probe") {
      const auto seconds = parse_real(value, 0, kMaxWakeProbeSeconds);
      if (!seconds || (*seconds > 0 && *seconds < 0.05)) {
        return bad("0 (no probe) or a number of seconds from 0.05 to " +
                   std::to_string(static_cast<int>(kMaxWakeProbeSeconds)));
      }
      search.wake_probe_seconds = *seconds;
    } else if (option == "--realtime") {
      if (value == "on") {
        search.realtime = CapacityOptions::Realtime::kOn;
      } else if (value == "off") {
        search.realtime = CapacityOptions::Realtime::kOff;
      } else if (value == "both") {
        search.realtime = CapacityOptions::Realtime::kBoth;
      } else {
        return bad("on, off or both");
      }
    } else if (option == "--audio") {
      if (value == "null") {
        search.audio = CapacityOptions::Audio::kNull;
      } else if (value == "jack") {
        search.audio = CapacityOptions::Audio::kJack;
      } else {
        return bad("null or jack");
      }
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

}  // namespace synthfarm::bench
