#include "coordinator/plan/cli_options.h"

#include <arpa/inet.h>
#include <unistd.h>
#include <boost/program_options.hpp>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "coordinator/control/control_command.h"
#include "coordinator/plan/cpu_list.h"
#include "coordinator/plan/port_pattern.h"
#include "shared/segment_layout.h"

namespace synthfarm {
namespace po = boost::program_options;

namespace {

constexpr const char* kUsage = "usage: synthfarm [options]";

// Raised inside the parser and turned into a CliExit; never escapes parse_cli.
struct BadValue {
  std::string message;
};

[[noreturn]] void fail(const std::string& option, const std::string& why) {
  throw BadValue{"synthfarm: --" + option + ": " + why};
}

// Strict number parsers: program_options' lexical_cast would take "-1" for an unsigned as
// 4294967295. These take the whole text or nothing.
std::uint64_t parse_unsigned(const std::string& option, const std::string& text, std::uint64_t min,
                             std::uint64_t max) {
  errno = 0;
  char* end = nullptr;
  // Digits only: strtoull alone would also take a sign and leading blanks (" 4", "+4", "-1").
  const bool digits_only = text.find_first_not_of("0123456789") == std::string::npos;
  const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || !digits_only || end != text.c_str() + text.size() || errno == ERANGE) {
    fail(option, "'" + text + "' is not a whole number");
  }
  if (value < min || value > max) {
    fail(option, std::to_string(value) + " is out of range (" + std::to_string(min) + " to " +
                     std::to_string(max) + ")");
  }
  return value;
}

double parse_real(const std::string& option, const std::string& text, double min, double max) {
  const std::optional<double> value = parse_finite_number(text);
  if (!value) fail(option, "'" + text + "' is not a number");
  if (*value < min || *value > max) {
    std::ostringstream range;
    range << " is out of range (" << min << " to " << max << ")";
    fail(option, text + range.str());
  }
  return *value;
}

// --cpus: a list of CPUs this process may run on. sched_getaffinity gives the set that taskset,
// cgroups (cpuset) or a container allow; pinning to another CPU would fail later, at spawn.
std::vector<int> parse_allowed_cpus(const std::string& text) {
  std::string why;
  const auto cpus = parse_cpu_list(text, why);
  if (!cpus) fail("cpus", why);
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
    fail("cpus", std::string("cannot read the CPUs this process may use: ") + std::strerror(errno));
  }
  if (const auto refused = first_cpu_not_allowed(*cpus, allowed)) {
    fail("cpus", "CPU " + std::to_string(*refused) + " is not one this process may use (" +
                     describe_cpu_set(allowed) + "); choose among those");
  }
  return *cpus;
}

AudioApi parse_audio_api(const std::string& text) {
  if (text == "auto") return AudioApi::kAuto;
  if (text == "jack") return AudioApi::kJack;
  if (text == "pulse") return AudioApi::kPulse;
  if (text == "alsa") return AudioApi::kAlsa;
  if (text == "null") return AudioApi::kNull;
  fail("audio", "unknown audio API '" + text + "' (choose auto, jack, pulse, alsa or null)");
}

// --connect's value: physical, none, or a pattern checked here (plan/port_pattern.h) so that a
// typo, or a pattern libjack could not compile in bounded memory, fails before anything starts.
JackConnections parse_jack_connections(const std::string& text) {
  JackConnections connections;
  if (text == "physical") return connections;
  if (text == "none") {
    connections.kind = JackConnections::Kind::kNone;
    return connections;
  }
  if (text.empty()) fail("connect", "needs physical, none or a regular expression");
  if (const auto problem = port_pattern_problem(text)) {
    fail("connect", "'" + text + "' " + *problem + "; see jack_lsp for the port names");
  }
  connections.kind = JackConnections::Kind::kPattern;
  connections.pattern = text;
  return connections;
}

// Boost.Program_options writes its messages by replacing placeholders such as %value% with the
// words typed, again and again until none is left: a word that holds one, say
// --x%original_token%, makes what() loop for ever while the message grows until memory runs out
// (found by tests/fuzz/command_line_fuzzer; Boost 1.74, and the loop is unchanged since). When a
// word holds a '%', the message is ours.
std::string parse_error_text(const po::error& error, int argc, const char* const argv[]) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]).find('%') == std::string_view::npos) continue;
    const auto* named = dynamic_cast<const po::error_with_option_name*>(&error);
    return named ? "cannot read option '" + named->get_option_name() +
                       "' (unknown, ambiguous, given twice, or missing its value)"
                 : std::string("cannot read the command line");
  }
  return error.what();
}

po::options_description describe_options() {
  po::options_description what("What to play");
  what.add_options()("workers", po::value<std::string>()->value_name("N"),
                     "worker processes, 1 to 256 (default 4)")(
      "sines", po::value<std::string>()->value_name("N"), "oscillators per worker (default 500)")(
      "freq-min", po::value<std::string>()->value_name("HZ"),
      "lowest drawn frequency in Hz (default 400)")("freq-max",
                                                    po::value<std::string>()->value_name("HZ"),
                                                    "highest drawn frequency in Hz (default 800)")(
      "freqs-file", po::value<std::string>()->value_name("FILE"),
      "read frequencies in Hz from FILE, one per line ('#' comments allowed), dealt to the "
      "workers in contiguous groups; excludes --sines and --seed (default: none, the frequencies "
      "are drawn)")("feedback", po::value<std::string>()->value_name("X"),
                    "SineLoop feedback, 0 to 1, as in pyo (default 0.1)")(
      "mul", po::value<std::string>()->value_name("X"), "gain of each oscillator (default 0.005)")(
      "seed", po::value<std::string>()->value_name("N"),
      "seed of the frequency draws, Python's random.Random(seed).uniform (default: random, "
      "printed at start-up so a run can be repeated)")(
      "kernel", po::value<std::string>()->value_name("KIND"),
      "exact: bit-identical to pyo 1.0.4; fast: a polynomial sine, within 3e-5 of exact at "
      "feedback up to 0.15, several times faster (default fast)")(
      "simd", po::value<std::string>()->value_name("TARGET"),
      ("instruction set: auto (the best this CPU runs) or one of " +
       simd_target_names(usable_simd_targets()) +
       ", to compare or work around a problem; also read from $SYNTHFARM_SIMD (default auto)")
          .c_str());

  po::options_description where("Where it goes");
  where.add_options()(
      "audio", po::value<std::string>()->value_name("API"),
      "output: auto, jack, pulse, alsa or null (a built-in clock, no device). auto tries "
      "JACK, PulseAudio, ALSA, then null (default auto)")(
      "device", po::value<std::string>()->value_name("DEVICE"),
      "audio device: its index in --list-devices or a case-insensitive part of its name; with "
      "--audio auto, the first API that has it (default: the API's default output). JACK "
      "numbers its devices anew as clients come and go: prefer a name there")(
      "connect", po::value<std::string>()->value_name("WHERE"),
      "JACK only: what synthfarm's ports (CLIENT:out_1, ...) connect to when it starts: "
      "physical (channel N to the server's Nth physical playback port), none (leave it to a "
      "patchbay), or a regular expression (POSIX extended, as jack_lsp lists full port names: "
      "channel N to the Nth matching input port); not with --device (default physical)")(
      "list-devices",
      "list the audio devices (of --audio's API only, if given) with their channels and sample "
      "rates, and exit (default: play)")(
      "json", "with --list-devices: print the list as a JSON array (default: a table)")(
      "sample-rate", po::value<std::string>()->value_name("HZ"),
      "sample rate in Hz (default 48000)")(
      "block", po::value<std::string>()->value_name("FRAMES"),
      "frames per buffer, 16 to 8192; JACK imposes its own (default 256)")(
      "buffers", po::value<std::string>()->value_name("N"),
      ("buffers the workers render ahead of the output, " + std::to_string(kMinBuffers) + " to " +
       std::to_string(kMaxBuffers) +
       ": synthfarm's latency beyond the device's own is N x --block frames (2 x 256 at 48 kHz: "
       "10.7 ms). More buffers let the workers ride out longer stalls of a busy machine; fewer "
       "answer control changes sooner. Real time only (default " +
       std::to_string(kDefaultBuffers) + ")")
          .c_str())(
      "channels", po::value<std::string>()->value_name("N"),
      "output channels; oscillator k of a worker plays on channel k % channels (default 2)")(
      "output", po::value<std::string>()->value_name("FILE.wav"),
      "render offline into FILE.wav (float32, as fast as the workers can); needs --duration "
      "(default: none, play in real time)")(
      "duration", po::value<std::string>()->value_name("SECONDS"),
      "seconds to play or render; ends a real-time run (default: until quit)")(
      "record", po::value<std::string>()->value_name("FILE.wav"),
      "also record exactly what the device plays into FILE.wav (float32, limited to +-1 as the "
      "device's output is); not with --output, "
      "whose file already is the recording (default: none)");

  po::options_description running("Running it");
  running.add_options()(
      "cpus", po::value<std::string>()->value_name("LIST"),
      "CPUs to run on, e.g. 0,1 or 0-3 (those the process may use: see taskset -p $$): worker N "
      "runs on the Nth of the list (round robin), the coordinator's threads on any of them "
      "(default: wherever the kernel schedules them)")(
      "name", po::value<std::string>()->value_name("NAME"),
      "instance name, letters, digits, '-' and '_': names the control FIFO, the shared memory "
      "and the JACK client (NAME; 'synthfarm' for the default instance) (default 'default')")(
      "control", po::value<std::string>()->value_name("PATH"),
      "path of the control FIFO (default $XDG_RUNTIME_DIR/synthfarm/NAME.control, or "
      "/tmp/synthfarm-UID/NAME.control)")(
      "osc-port", po::value<std::string>()->value_name("PORT"),
      "also take the control commands as OSC messages on UDP port PORT, 0 to 65535 (0: a free "
      "port, printed at start-up); see docs/OSC.md (default: no OSC)")(
      "osc-bind", po::value<std::string>()->value_name("ADDRESS"),
      "numeric IPv4 or IPv6 address the OSC port listens on; anything beyond loopback lets "
      "every host that reaches it steer the instance, as OSC has no authentication (default "
      "127.0.0.1)")(
      "on-worker-failure", po::value<std::string>()->value_name("POLICY"),
      "when a worker dies while playing: silence (its oscillators fall silent, the others play "
      "on, stderr says which worker and why), restart (a new worker takes over its oscillators "
      "within 0.1 s, later if it keeps dying: 0.1 s doubling to 5 s) or abort (stop everything "
      "cleanly, exit 1) (default silence)")(
      "quiet",
      "no live status line and no progress bar; start-up and errors still print "
      "(default: both shown on a terminal)")(
      "report", po::value<std::string>()->value_name("FILE.json"),
      "write a JSON report of the run (its settings and statistics) to FILE.json at exit, live "
      "or offline (default: none)")("version", "print the version and exit")(
      "help,h", "print this help and exit");

  po::options_description all;
  all.add(what).add(where).add(running);
  return all;
}

std::string help_text(const po::options_description& description) {
  std::ostringstream text;
  text << kUsage << "\n"
       << "       synthfarm ctl [--name NAME | --control PATH | --osc HOST:PORT] COMMAND...\n\n"
       << "Plays N worker processes of SineLoop oscillators (pyo's multiprocessing example,\n"
       << "done properly): each worker renders its group into a shared-memory ring; the\n"
       << "coordinator sums them in its audio callback.\n\n"
       << "Examples:\n"
       << "  synthfarm --workers 4 --sines 500          play pyo's 4 x 500 example\n"
       << "  synthfarm --list-devices                   where it can play\n"
       << "  synthfarm --audio null --duration 10       run without a sound device\n"
       << "  synthfarm --output x.wav --duration 10     render 10 s offline\n"
       << "  synthfarm ctl stop 1                       stop worker 1 of the running instance\n"
       << description << "\n"
       << "Control while playing:\n"
       << "  synthfarm ctl [--name NAME] COMMAND sends one command to a running instance and\n"
       << "  prints its answer (see synthfarm ctl --help); or write the command as one line\n"
       << "  into the control FIFO; or, with --osc-port, send it as an OSC message\n"
       << "  (synthfarm ctl --osc HOST:PORT COMMAND does; see docs/OSC.md).\n"
       << control_command_summary() << "\n"
       << "Exit codes: 0 success, 1 a run that failed (message on stderr), 2 a bad command\n"
       << "line (nothing was started).\n";
  return text.str();
}

}  // namespace

const char* audio_api_name(AudioApi api) noexcept {
  switch (api) {
    case AudioApi::kAuto:
      return "auto";
    case AudioApi::kJack:
      return "jack";
    case AudioApi::kPulse:
      return "pulse";
    case AudioApi::kAlsa:
      return "alsa";
    case AudioApi::kNull:
      return "null";
  }
  return "?";
}

std::string default_runtime_directory() {
  // A directory of our own, never a name straight in /tmp, which any user could create first.
  const char* runtime_dir = std::getenv("XDG_RUNTIME_DIR");
  if (runtime_dir && *runtime_dir) return std::string(runtime_dir) + "/synthfarm";
  return "/tmp/synthfarm-" + std::to_string(geteuid());
}

std::string default_control_path(const std::string& instance_name) {
  return default_runtime_directory() + "/" + instance_name + ".control";
}

bool is_valid_instance_name(std::string_view name) noexcept {
  return !name.empty() && name.size() <= 64 &&
         name.find_first_not_of(
             "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
             "0123456789-_") == std::string_view::npos;
}

std::string describe_kernel(KernelKind kernel, const SimdTarget& simd) {
  return std::string(kernel_kind_name(kernel)) +
         (kernel == KernelKind::kExact ? " (bit-identical to pyo 1.0.4 SineLoop)"
                                       : " (polynomial sine)") +
         " on " + std::string(simd.name) + " (" + std::string(simd.description) + ")";
}

std::variant<Options, CliExit> parse_cli(int argc, const char* const argv[],
                                         std::string_view simd_environment) {
  const po::options_description description = describe_options();
  po::variables_map values;
  try {
    po::store(po::command_line_parser(argc, argv).options(description).run(), values);
    po::notify(values);
  } catch (const po::error& e) {
    return CliExit{kExitUsage,
                   "synthfarm: " + parse_error_text(e, argc, argv) + " (see synthfarm --help)",
                   false};
  }
  if (values.count("help")) return CliExit{kExitOk, help_text(description), true};

  Options options;
  const auto text = [&](const char* name) { return values[name].as<std::string>(); };
  const auto given = [&](const char* name) { return values.count(name) > 0; };
  try {
    if (given("kernel")) {
      const auto kernel = parse_kernel_kind(text("kernel"));
      if (!kernel) fail("kernel", "unknown kernel '" + text("kernel") + "' (choose exact or fast)");
      options.kernel = *kernel;
    }
    std::string simd_error;
    if (given("simd")) {
      const auto simd = choose_simd_target(text("simd"), simd_error);
      if (!simd) fail("simd", simd_error);
      options.simd = *simd;
    } else {
      const auto simd = choose_simd_target(simd_environment, simd_error);
      if (!simd) {
        throw BadValue{std::string("synthfarm: $") + kSimdEnvironmentVariable + ": " + simd_error +
                       " (unset it, or fix it)"};
      }
      options.simd = *simd;
    }
    if (values.count("version")) {
      return CliExit{
          kExitOk,
          std::string("synthfarm ") + SYNTHFARM_VERSION +
              "\nkernel: " + describe_kernel(options.kernel, options.simd) +
              "\nSIMD targets in this build: " + simd_target_names(compiled_simd_targets()) +
              "; this CPU runs: " + simd_target_names(usable_simd_targets()) + "\n",
          true};
    }
    if (given("workers")) {
      options.workers =
          static_cast<std::uint32_t>(parse_unsigned("workers", text("workers"), 1, kMaxWorkers));
    }
    if (given("sines")) {
      options.sines_per_worker =
          static_cast<std::uint32_t>(parse_unsigned("sines", text("sines"), 1, 10'000'000));
    }
    if (given("freq-min")) options.freq_min_hz = parse_real("freq-min", text("freq-min"), 0, 1e6);
    if (given("freq-max")) options.freq_max_hz = parse_real("freq-max", text("freq-max"), 0, 1e6);
    if (options.freq_min_hz > options.freq_max_hz) {
      fail("freq-min", "is above --freq-max; give a range with min <= max");
    }
    // The FIFO's `set` takes the same ranges (control_command.h).
    if (given("feedback")) {
      options.feedback = parse_real("feedback", text("feedback"), kMinFeedback, kMaxFeedback);
    }
    if (given("mul")) options.mul = parse_real("mul", text("mul"), kMinMul, kMaxMul);
    if (given("seed")) {
      options.seed = parse_unsigned("seed", text("seed"), 0, UINT64_MAX);
    }
    if (given("freqs-file")) {
      options.freqs_file = text("freqs-file");
      if (options.freqs_file.empty()) fail("freqs-file", "needs a file name");
      if (given("sines")) {
        fail("freqs-file", "cannot be combined with --sines (the file sets the count)");
      }
      if (given("seed")) fail("freqs-file", "cannot be combined with --seed");
    }
    if (given("sample-rate")) {
      options.sample_rate_hz = static_cast<std::uint32_t>(
          parse_unsigned("sample-rate", text("sample-rate"), 8000, 384000));
    }
    if (given("block")) {
      options.block_frames =
          static_cast<std::uint32_t>(parse_unsigned("block", text("block"), 16, kMaxBlockFrames));
    }
    if (given("buffers")) {
      options.buffers = static_cast<std::uint32_t>(
          parse_unsigned("buffers", text("buffers"), kMinBuffers, kMaxBuffers));
    }
    if (given("cpus")) options.cpus = parse_allowed_cpus(text("cpus"));
    if (given("channels")) {
      options.channels =
          static_cast<std::uint32_t>(parse_unsigned("channels", text("channels"), 1, kMaxChannels));
    }
    if (given("audio")) options.audio = parse_audio_api(text("audio"));
    if (given("list-devices")) {
      options.action = Action::kListDevices;
      if (options.audio == AudioApi::kNull) {
        fail("list-devices", "--audio null has no devices; choose jack, pulse or alsa, or auto");
      }
    }
    options.json = given("json");
    if (options.json && options.action != Action::kListDevices) {
      fail("json", "only goes with --list-devices (synthfarm --list-devices --json)");
    }
    if (given("device")) {
      options.device = text("device");
      if (options.device.empty()) {
        fail("device", "needs an index or a part of a name (see synthfarm --list-devices)");
      }
      if (options.audio == AudioApi::kNull) {
        fail("device", "--audio null plays on no device; drop --device or choose an API");
      }
    }
    if (given("connect")) {
      options.jack_connections = parse_jack_connections(text("connect"));
      if (options.audio != AudioApi::kAuto && options.audio != AudioApi::kJack) {
        fail("connect", "chooses JACK connections; it does not go with --audio " +
                            std::string(audio_api_name(options.audio)));
      }
      if (given("device")) {
        fail("connect", "and --device both choose where JACK plays; give one of them");
      }
    }
    if (given("on-worker-failure")) {
      const std::string policy = text("on-worker-failure");
      if (policy == "silence") {
        options.on_worker_failure = WorkerFailurePolicy::kSilence;
      } else if (policy == "abort") {
        options.on_worker_failure = WorkerFailurePolicy::kAbort;
      } else if (policy == "restart") {
        options.on_worker_failure = WorkerFailurePolicy::kRestart;
      } else {
        fail("on-worker-failure",
             "unknown policy '" + policy + "' (choose silence, restart or abort)");
      }
    }
    if (given("duration")) {
      options.duration_seconds = parse_real("duration", text("duration"), 1e-6, 1e7);
    }
    if (given("output")) {
      options.output_path = text("output");
      if (options.output_path.empty()) fail("output", "needs a file name");
      if (!options.duration_seconds) {
        fail("output", "an offline render needs --duration SECONDS");
      }
      if (given("audio")) fail("output", "renders to a file; it cannot be combined with --audio");
      if (given("device")) {
        fail("output", "renders to a file; it cannot be combined with --device");
      }
      if (given("connect")) {
        fail("output", "renders to a file; it cannot be combined with --connect");
      }
      if (given("buffers")) {
        fail("output", "renders as far ahead as it can; --buffers only sets a live run's latency");
      }
    }
    if (given("record")) {
      options.record_path = text("record");
      if (options.record_path.empty()) fail("record", "needs a file name");
      if (given("output")) {
        fail("record",
             "cannot be combined with --output: the offline render already is the recording");
      }
    }
    if (given("report")) {
      options.report_path = text("report");
      if (options.report_path.empty()) fail("report", "needs a file name");
    }
    options.quiet = given("quiet");
    if (given("name")) {
      options.name = text("name");
      if (!is_valid_instance_name(options.name)) {
        fail("name", "'" + options.name + "' must be 1 to 64 letters, digits, '-' or '_'");
      }
    }
    options.control_path = given("control") ? text("control") : default_control_path(options.name);
    if (options.control_path.empty()) fail("control", "needs a path");
    if (given("osc-port")) {
      options.osc_port =
          static_cast<std::uint16_t>(parse_unsigned("osc-port", text("osc-port"), 0, 65535));
    }
    if (given("osc-bind")) {
      if (!options.osc_port) fail("osc-bind", "only goes with --osc-port PORT");
      options.osc_bind = text("osc-bind");
      in6_addr any{};
      if (inet_pton(AF_INET, options.osc_bind.c_str(), &any) != 1 &&
          inet_pton(AF_INET6, options.osc_bind.c_str(), &any) != 1) {
        fail("osc-bind",
             "'" + options.osc_bind +
                 "' is not a numeric IPv4 or IPv6 address (e.g. 127.0.0.1, 0.0.0.0, ::1)");
      }
    }
  } catch (const BadValue& bad) {
    return CliExit{kExitUsage, bad.message, false};
  }
  return options;
}

}  // namespace synthfarm
