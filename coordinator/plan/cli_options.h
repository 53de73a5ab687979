#pragma once
// The coordinator's command line. parse_cli is pure: it never prints and never exits; main
// decides what to do with what it returns.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "shared/kernel_kind.h"
#include "shared/number_text.h"
#include "shared/parameter_ranges.h"
#include "shared/simd_target.h"

namespace synthfarm {

enum class AudioApi { kAuto, kJack, kPulse, kAlsa, kNull };

// What the coordinator does when a worker dies while playing.
enum class WorkerFailurePolicy {
  kSilence,  // its oscillators fall silent; the others play on (default)
  kAbort,    // stop everything cleanly and exit 1
  kRestart,  // start a new worker for its oscillators, backing off if it keeps dying
};

const char* audio_api_name(AudioApi api) noexcept;

// Which ports a JACK output connects its own to (--connect). Connections are made once, when
// the output starts; the user may change them in any patchbay afterwards.
struct JackConnections {
  enum class Kind {
    kPhysical,  // channel c to the server's physical playback port c (default)
    kNone,      // no connection: a patchbay or session manager makes them
    kPattern,   // channel c to the c-th input port whose full name matches `pattern`
  };
  Kind kind = Kind::kPhysical;
  std::string pattern;  // kPattern: a POSIX extended regular expression, as jack_get_ports reads
};

// What the command line asks for: a run, or only the list of audio devices.
enum class Action { kRun, kListDevices };

// Exit codes, documented in --help and the README.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // a run that started and failed
inline constexpr int kExitUsage = 2;    // a bad command line; nothing was started

// The instance a run is when --name is not given.
inline constexpr const char* kDefaultInstanceName = "default";

// Where --osc-port listens when --osc-bind is not given: this machine only (OSC has no
// authentication).
inline constexpr const char* kDefaultOscBind = "127.0.0.1";

struct Options {
  Action action = Action::kRun;
  std::uint32_t workers = 4;
  std::uint32_t sines_per_worker = 500;
  double freq_min_hz = 400.0;
  double freq_max_hz = 800.0;
  double feedback = 0.1;
  double mul = 0.005;
  std::optional<std::uint64_t> seed;  // absent: main draws one and prints it
  std::string freqs_file;             // empty: seeded frequencies
  std::uint32_t sample_rate_hz = 48000;
  std::uint32_t block_frames = 256;
  // Device buffers the workers render ahead of the output: the ring's fill target is
  // buffers x block_frames, synthfarm's added latency (real time only).
  std::uint32_t buffers = kDefaultBuffers;
  std::uint32_t channels = 2;
  AudioApi audio = AudioApi::kAuto;
  std::string device;       // empty: the API's default output; else an index or a name part
  bool json = false;        // --list-devices prints JSON instead of a table
  std::string output_path;  // non-empty: offline render to this WAV
  std::string record_path;  // non-empty: also record what the device plays
  std::string report_path;  // non-empty: JSON report written at exit
  bool quiet = false;       // no live status line and no progress bar
  std::optional<double> duration_seconds;  // ends any run; required with output_path
  std::string control_path;                // empty: the default path for `name`
  std::string name{kDefaultInstanceName};  // instance name: FIFO, segment, JACK client
  std::optional<std::uint16_t> osc_port;   // absent: no OSC control; 0: a free port, printed
  std::string osc_bind{kDefaultOscBind};   // numeric IPv4 or IPv6 address the OSC port binds
  WorkerFailurePolicy on_worker_failure = WorkerFailurePolicy::kSilence;
  KernelKind kernel = KernelKind::kFast;
  // --cpus: the CPUs the run may use, in the order given; empty: wherever the kernel schedules.
  // Worker w is pinned to cpus[w % size]; the coordinator's threads to all of them.
  std::vector<int> cpus;
  SimdTarget simd;  // resolved: the best this CPU runs, unless --simd or SYNTHFARM_SIMD says

  // --connect: what a JACK output's ports connect to when it starts.
  JackConnections jack_connections;

  // Thread: any. An offline render (--output) rather than a live output: the one place that
  // says so.
  bool offline() const noexcept { return !output_path.empty(); }
};

// What main should do instead of running: print `text` (to stdout for --help/--version, to
// stderr otherwise) and exit with `exit_code`.
struct CliExit {
  int exit_code = kExitOk;
  std::string text;
  bool to_stdout = true;
};

// simd_environment: the value of SYNTHFARM_SIMD (main passes getenv's; empty when unset), the
// target to use when --simd is not given.
std::variant<Options, CliExit> parse_cli(int argc, const char* const argv[],
                                         std::string_view simd_environment = {});

// "fast kernel (polynomial sine) on avx512 (AVX-512 ...)": for --version and the start-up line.
std::string describe_kernel(KernelKind kernel, const SimdTarget& simd);

// The per-user directory that holds each instance's lock and its default control FIFO:
// $XDG_RUNTIME_DIR/synthfarm, or /tmp/synthfarm-<uid> when XDG_RUNTIME_DIR is unset. Only the
// path: the coordinator creates it (mode 0700) and checks its owner and mode before use.
std::string default_runtime_directory();

// The FIFO path used when --control is not given: default_runtime_directory()/NAME.control.
std::string default_control_path(const std::string& instance_name);

// --name's rule: 1 to 64 letters, digits, '-' or '_' (it becomes part of file, shared-memory
// and JACK client names).
bool is_valid_instance_name(std::string_view name) noexcept;

}  // namespace synthfarm
