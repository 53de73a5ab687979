#pragma once
// Running the real synthfarm binary from a benchmark: one process at a time, its output captured
// to a temporary log, its wall and CPU time measured (CPU from wait4, which includes the workers
// the coordinator reaps).

#include <optional>
#include <string>
#include <vector>

namespace synthfarm::bench {

// synthfarm beside this executable (the benchmarks ship with the build), or nullopt with `error`.
std::optional<std::string> synthfarm_beside_self(std::string& error);

// A fresh name for this process's next run: "synthfarm-bench-<pid>-<n>", usable as --name and
// as a file stem in the temporary directory.
std::string unique_run_name();

struct FinishedRun {
  double wall_seconds = 0.0;
  double cpu_seconds = 0.0;
  std::string output;  // stdout and stderr, interleaved
  int exit_code = 0;   // non-zero only with RunSettings::failed_exit_is_result
};

// How a run's process is set up besides its arguments.
struct RunSettings {
  // false: synthfarm runs without the right to real-time scheduling, as for a user without
  // RLIMIT_RTPRIO or CAP_SYS_NICE: its RLIMIT_RTPRIO is 0 and CAP_SYS_NICE leaves its bounding
  // set (so that not even root gets it back at exec), so every SCHED_FIFO request is refused and
  // synthfarm falls back as it does for such a user. SYNTHFARM_REALTIME=off is set as well.
  bool realtime_allowed = true;
  // true: a run that exits with a non-zero code is returned (FinishedRun::exit_code) for the
  // caller to judge from its report: a live run that played and then stopped because its
  // output stalled is a result (a failed capacity probe), not an error.
  bool failed_exit_is_result = false;
};

// Runs `synthfarm arguments...` to its end. Returns nullopt with `error` (naming the command,
// how it ended and the end of its output) when it could not start, was killed by a signal, or
// did not exit 0 (unless settings.failed_exit_is_result).
std::optional<FinishedRun> run_synthfarm(const std::string& synthfarm,
                                         const std::vector<std::string>& arguments,
                                         std::string& error, const RunSettings& settings = {});

// The last 2000 characters of `text`, for error messages.
std::string tail_of(const std::string& text);

}  // namespace synthfarm::bench
