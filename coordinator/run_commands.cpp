#include "coordinator/run_commands.h"

#include "coordinator/report/printf_string.h"
#include "coordinator/report/status_text.h"
#include "coordinator/supervision/worker_commands.h"

namespace synthfarm {
namespace {

const char* phase_name(Mixer::Phase phase) {
  switch (phase) {
    case Mixer::Phase::kPlaying:
      return "playing";
    case Mixer::Phase::kStopped:
      return "stopped";
    case Mixer::Phase::kResuming:
      return "resuming";
  }
  return "?";
}

CommandResult report_outcome(const std::string& path, const std::string& error) {
  if (!error.empty()) return {false, error + "\n"};
  return {true, "control: report written to " + path + "\n"};
}

std::string target_of(const ControlCommand& command) {
  return command.worker ? std::to_string(*command.worker) : "all";
}

}  // namespace

RunCommands::RunCommands(const RunReportContext& facts, Segment& segment, Mixer& mixer,
                         const WorkerSupervisor& supervisor, const Recorder* recorder,
                         const RunOutput& output)
    : facts_(facts),
      segment_(segment),
      mixer_(mixer),
      supervisor_(supervisor),
      recorder_(recorder),
      output_(output) {}

CommandResult RunCommands::apply(const ControlCommand& command) {
  switch (command.verb) {
    case ControlCommand::Verb::kStatus:
      return {true, status_text("status"), false};
    case ControlCommand::Verb::kQuit:
      return {true, "control: quit\n"};
    case ControlCommand::Verb::kStop:
      return request_state(command, RequestedState::kStop);
    case ControlCommand::Verb::kPlay:
      return request_state(command, RequestedState::kPlay);
    case ControlCommand::Verb::kSet:
      return set_parameter(command);
    case ControlCommand::Verb::kGain:
      mixer_.master().set_gain_db(command.value);
      return {true, printf_string("control: gain %g dB\n", command.value)};
    case ControlCommand::Verb::kReseed:
      return reseed(command);
    case ControlCommand::Verb::kReport:
      return report(command.path);
  }
  return {false, "control: unknown command\n"};
}

CommandResult RunCommands::request_state(const ControlCommand& command, RequestedState request) {
  for (std::uint32_t w = 0; w < segment_.header().worker_count; ++w) {
    if (command.worker && *command.worker != w) continue;
    // Release pairs with the mixer's acquire; it carries the request out at its next call.
    segment_.slot(w).requested_state.store(static_cast<std::uint32_t>(request),
                                           std::memory_order_release);
  }
  return {true, std::string("control: ") + (request == RequestedState::kStop ? "stop " : "play ") +
                    target_of(command) + "\n"};
}

CommandResult RunCommands::set_parameter(const ControlCommand& command) {
  for (std::uint32_t w = 0; w < segment_.header().worker_count; ++w) {
    if (command.worker && *command.worker != w) continue;
    set_worker_parameter(segment_, w, command.parameter, static_cast<float>(command.value));
  }
  return {true, "control: set " + target_of(command) + " " +
                    (command.parameter == WorkerParameter::kFeedback ? "feedback " : "mul ") +
                    printf_string("%g", command.value) + "\n"};
}

CommandResult RunCommands::reseed(const ControlCommand& command) {
  const Options& options = *facts_.options;
  reseed_workers(segment_, command.worker, command.seed, options.freq_min_hz, options.freq_max_hz);
  const double at_seconds =
      static_cast<double>(mixer_.stats().frames.load(std::memory_order_relaxed)) /
      segment_.header().sample_rate_hz;
  reseeds_.push_back({target_of(command), command.seed, at_seconds});
  return {true,
          "control: reseed " + target_of(command) + " " + std::to_string(command.seed) + "\n"};
}

RunStatistics RunCommands::statistics() const {
  std::vector<WorkerProcessView> views;
  views.reserve(supervisor_.workers().size());
  for (const auto& worker : supervisor_.workers()) {
    // A worker that died while playing stays "dead" in the final status and the report, even
    // though the run then ended: a batch user must see that its oscillators were lost.
    const char* state = !worker.reaped              ? phase_name(mixer_.phase(worker.index))
                        : worker.died_while_playing ? "dead"
                                                    : "exited";
    views.push_back({worker.pid, state,
                     worker.died_while_playing ? describe_wait_status(worker.wait_status) : ""});
  }
  RunStatistics run = collect_statistics(mixer_, segment_, views);
  run.server_xruns = output_.server_xruns();
  return run;
}

std::optional<RecordingStatistics> RunCommands::recording() const {
  if (!recorder_) return std::nullopt;
  return RecordingStatistics{recorder_->path(), recorder_->frames_written(),
                             recorder_->frames_dropped(), recorder_->error()};
}

std::string RunCommands::status_text(std::string_view label) const {
  return format_status_text(label, statistics(), recording());
}

bool RunCommands::write_report(const std::string& path, const std::string& reason,
                               std::optional<int> exit_code, std::string& error) const {
  RunReportContext context = facts_;
  context.recording = recording();
  context.reseeds = reseeds_;
  return write_text_file_atomically(
      path, format_run_report(context, statistics(), reason, exit_code), error);
}

CommandResult RunCommands::report(const std::string& path) {
  if (background_report_) {
    return {false, "control: the report to " + background_report_->path +
                       " is still being written (the file system is slow); nothing changed, " +
                       "try again when it is done\n"};
  }
  // The counters are read here, on the control thread; only the file system work goes apart.
  RunReportContext context = facts_;
  context.recording = recording();
  context.reseeds = reseeds_;
  std::future<std::string> error =
      std::async(std::launch::async,
                 [path, text = format_run_report(context, statistics(), "command", std::nullopt)] {
                   std::string message;
                   return write_text_file_atomically(path, text, message) ? std::string() : message;
                 });
  if (error.wait_for(kReportWait) == std::future_status::ready) {
    return report_outcome(path, error.get());
  }
  background_report_ = BackgroundReport{path, std::move(error)};
  return {true, "control: writing the report to " + path +
                    " (the file system is slow: its outcome follows when it is done)\n"};
}

std::optional<CommandResult> RunCommands::take_finished_report() {
  if (!background_report_ ||
      background_report_->error.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    return std::nullopt;
  }
  return finish_background_report();
}

std::optional<CommandResult> RunCommands::finish_background_report() {
  if (!background_report_) return std::nullopt;
  const CommandResult outcome =
      report_outcome(background_report_->path, background_report_->error.get());
  background_report_.reset();
  return outcome;
}

}  // namespace synthfarm
