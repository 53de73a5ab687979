#pragma once
// The --report file (and the FIFO's `report FILE`): one JSON document with the configuration,
// what the output granted, and every counter of the run, so a script can check a run (or a
// benchmark) without scraping the status lines.

#include <optional>
#include <string>
#include <vector>

#include "coordinator/plan/cli_options.h"
#include "coordinator/plan/oscillator_plan.h"
#include "coordinator/report/run_statistics.h"

namespace synthfarm {

// What the report says beside the counters.
struct RunReportContext {
  const Options* options = nullptr;
  const OscillatorPlan* plan = nullptr;
  std::string output;  // "JACK, 48000 Hz, 256 frames per buffer", or the offline file
  std::uint32_t added_latency_frames = 0;
  std::string realtime_scheduling;  // the audio thread's, as the start-up report says it
  std::string memory;               // the memory locking line of the start-up report
  using Recording = RecordingStatistics;
  std::optional<Recording> recording;
  // `reseed` commands so far: after one, configuration.seed no longer says what plays.
  struct Reseed {
    std::string workers;  // a worker number or "all"
    std::uint64_t seed = 0;
    double at_seconds = 0.0;  // the timeline position when it was asked for
  };
  std::vector<Reseed> reseeds;
  std::string error;  // what a failed run ended with; empty when it did not fail
};

// Thread: control. The report as JSON text. `reason`: "exit" (with the exit code) or
// "command" (the FIFO's `report`, while playing).
std::string format_run_report(const RunReportContext& context, const RunStatistics& statistics,
                              const std::string& reason, std::optional<int> exit_code);

// Thread: main. The report of a run that failed before it played (nothing to count): the
// configuration, the error and the exit code, so that a script that asked for a report finds
// one on every exit.
std::string format_failed_start_report(const Options& options, const OscillatorPlan& plan,
                                       const std::string& error, int exit_code);

// Thread: control. Writes `text` to `path` through a temporary file beside it and a rename, so
// a reader never sees half a report. Returns false with `error` (naming the path and why).
bool write_text_file_atomically(const std::string& path, const std::string& text,
                                std::string& error);

// Thread: main, before anything starts: whether a file can be created at `path` (its directory
// exists and is writable), so that a run does not play for an hour and then fail to report.
bool check_file_can_be_created(const std::string& path, const char* option, std::string& error);

}  // namespace synthfarm
