#pragma once
// What the control commands do to a playing run: stop, play, set and reseed through the
// workers' slots, gain through the mixer's master stage, status and report from the counters.
// The transport (control/control_server.h, or any other) only parses and answers.

#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/control/command_handler.h"
#include "coordinator/mix/mixer.h"
#include "coordinator/output/recorder.h"
#include "coordinator/report/run_report.h"
#include "coordinator/report/run_statistics.h"
#include "coordinator/run_output.h"
#include "coordinator/supervision/worker_supervisor.h"
#include "shared/segment.h"

namespace synthfarm {

class RunCommands final : public CommandHandler {
 public:
  // Thread: control. Everything referenced must outlive this object. `facts` is the report's
  // context as the run keeps it current (options, plan, output, scheduling, memory, error);
  // this object adds the recording and the reseeds when it writes a report. `recorder` is
  // nullptr without --record. `output` gives the audio server's counters.
  RunCommands(const RunReportContext& facts, Segment& segment, Mixer& mixer,
              const WorkerSupervisor& supervisor, const Recorder* recorder,
              const RunOutput& output);

  // How long `report FILE` may hold the control thread while the file is written and synced; a
  // slower file system finishes it in the background, one report at a time, and
  // take_finished_report() gives its outcome.
  static constexpr std::chrono::milliseconds kReportWait{50};

  // Thread: control. Carries the command out (the mixer and the workers take it at their next
  // callback or block) and says what was done. Allocates; `report` blocks at most kReportWait.
  CommandResult apply(const ControlCommand& command) override;

  // Thread: control. Never blocks. The outcome of a report that finished in the background
  // since the last call, for the console; nullopt when there is none.
  std::optional<CommandResult> take_finished_report();
  // Thread: control. Blocks until a report still being written in the background is done, and
  // returns its outcome; nullopt when there was none.
  std::optional<CommandResult> finish_background_report();

  // Thread: control. Allocates. One reading of every counter, with each worker's state.
  RunStatistics statistics() const;
  // Thread: control. Allocates. The status lines under `label` ("status", "final").
  std::string status_text(std::string_view label) const;
  // Thread: control. Writes the JSON report to `path`; `reason` "exit" (with the exit code) or
  // "command". Blocks on the file system. False with `error` naming the path and why.
  bool write_report(const std::string& path, const std::string& reason,
                    std::optional<int> exit_code, std::string& error) const;
  // Thread: control. What --record has done so far; nullopt without --record.
  std::optional<RecordingStatistics> recording() const;

 private:
  CommandResult request_state(const ControlCommand& command, RequestedState request);
  CommandResult set_parameter(const ControlCommand& command);
  CommandResult reseed(const ControlCommand& command);
  CommandResult report(const std::string& path);

  // A `report FILE` whose write and fsync outlasted kReportWait: its error ("" on success).
  struct BackgroundReport {
    std::string path;
    std::future<std::string> error;
  };

  const RunReportContext& facts_;
  Segment& segment_;
  Mixer& mixer_;
  const WorkerSupervisor& supervisor_;
  const Recorder* recorder_;
  const RunOutput& output_;
  std::vector<RunReportContext::Reseed> reseeds_;  // for the report: the seed no longer says all
  std::optional<BackgroundReport> background_report_;
};

}  // namespace synthfarm
