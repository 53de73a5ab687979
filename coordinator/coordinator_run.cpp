#include "coordinator/coordinator_run.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "coordinator/control/control_server.h"
#include "coordinator/control/osc_server.h"
#include "coordinator/control_loop.h"
#include "coordinator/mix/ring_plan.h"
#include "coordinator/report/run_console.h"
#include "coordinator/report/startup_report.h"
#include "coordinator/run_commands.h"
#include "coordinator/run_ending.h"
#include "coordinator/run_output.h"
#include "coordinator/supervision/cpu_placement.h"
#include "coordinator/supervision/instance_resources.h"
#include "coordinator/supervision/segment_setup.h"
#include "coordinator/supervision/stop_signals.h"
#include "shared/realtime_policy.h"
#include "shared/realtime_setup.h"

namespace synthfarm {
namespace {

// One run, in three acts: start (resources, output, workers, mixer), play (the control loop),
// tear down (in reverse, on every path: nothing is left in /dev/shm, no FIFO, no worker).
// Each subsystem's state lives in its own object; this class only orders them.
// Thread: main, which becomes the control thread; the output and the workers run apart.
class CoordinatorRun {
 public:
  CoordinatorRun(const Options& options, const OscillatorPlan& plan, StopSignals& signals)
      : options_(options), plan_(plan), signals_(signals) {
    facts_.options = &options_;
    facts_.plan = &plan_;
    facts_.realtime_scheduling = offline() ? "not used (offline)" : "not known yet";
    facts_.memory = "not locked (offline)";
  }
  ~CoordinatorRun() { teardown(); }

  // Starts, plays until the end, tears down, prints the final lines; returns the exit code.
  int run();

 private:
  bool offline() const { return options_.offline(); }
  int fail(const std::string& message) {
    console_.error(message);
    if (facts_.error.empty()) facts_.error = message;  // the first failure is the cause
    return kExitFailure;
  }
  int start_and_play();
  // --duration in frames of the output's rate; nullopt without --duration.
  std::optional<std::uint64_t> duration_frames() const {
    if (!options_.duration_seconds) return std::nullopt;
    return static_cast<std::uint64_t>(std::llround(*options_.duration_seconds * sample_rate_hz_));
  }
  // The segment, the FIFO, and every worker attached to the segment.
  bool start_workers(std::string& error);
  void print_startup_report();
  // Thread: control, once the output plays. Until the end; returns the exit code.
  int control_loop();
  // Thread: control, during start-up. Takes a pending stop signal and says that it ends the
  // start-up at `stage` (the teardown is the same as at any end); false when none came.
  bool stopped_by_signal(const std::string& stage);
  void teardown();

  const Options& options_;
  const OscillatorPlan& plan_;
  StopSignals& signals_;
  RunConsole console_;
  RunReportContext facts_;  // what the report says beside the counters, kept current
  bool report_path_usable_ = false;
  // Declared in the order started; teardown() stops them in reverse.
  std::unique_ptr<InstanceResources> resources_;
  std::unique_ptr<RunOutput> output_;
  bool output_gone_ = false;  // the run ended because the output could no longer play
  std::uint32_t sample_rate_hz_ = 0;
  RingPlan rings_{};
  std::unique_ptr<Recorder> recorder_;
  std::optional<Segment> segment_;
  std::vector<WorkerGroup> groups_;
  std::unique_ptr<WorkerSupervisor> supervisor_;
  std::unique_ptr<Mixer> mixer_;
  RealtimePlan realtime_;
  std::unique_ptr<WorkerWaker> waker_;  // live outputs only: the file thread may wake directly
  std::unique_ptr<RunCommands> commands_;
  std::unique_ptr<ControlServer> server_;
  std::unique_ptr<OscServer> osc_;  // --osc-port only
};

bool CoordinatorRun::start_workers(std::string& error) {
  rings_ = plan_segment_rings(output_->block_frames(), options_.buffers, offline());
  facts_.added_latency_frames = offline() ? 0 : rings_.fill_target_frames;
  segment_ = resources_->create_segment(options_.workers, options_.channels, rings_.ring_frames,
                                        plan_.frequencies_hz.size(), error);
  if (!segment_) return false;
  // Where our threads go below the output thread (shared/realtime_policy.h); workers read it.
  realtime_ = plan_realtime_for_output(output_->audio_thread_priority());
  segment_->set_worker_scheduling(realtime_.worker, realtime_.fallback_nice);
  groups_ = prepare_segment(*segment_, options_, plan_,
                            {sample_rate_hz_, output_->block_frames(), rings_.fill_target_frames});
  if (!resources_->create_fifo(error)) return false;
  supervisor_ = std::make_unique<WorkerSupervisor>(*segment_, resources_->segment_name(),
                                                   options_.on_worker_failure, offline());
  supervisor_->set_interrupt_fd(signals_.fd());  // its waits end when a signal comes
  supervisor_->set_worker_cpus(options_.cpus);
  // Once every worker holds its mapping the name can go, so a crash leaves nothing in /dev/shm.
  return supervisor_->spawn_all(error) && supervisor_->wait_until_attached(error) &&
         resources_->remove_segment_name(error);
}

void CoordinatorRun::print_startup_report() {
  StartupFacts facts;
  facts.output_description = output_->description();
  facts.sample_rate_hz = sample_rate_hz_;
  facts.added_latency_frames = rings_.fill_target_frames;
  if (recorder_) facts.recording_path = recorder_->path();
  facts.control_fifo_path = resources_->fifo().path();
  const WorkerSupervisor::MemoryLocks locks = supervisor_->memory_locks();
  facts.worker_memory_lock_failures = locks.failures;
  facts.first_memory_lock_errno = locks.first_errno;
  for (const WorkerProcess& worker : supervisor_->workers()) {
    facts.worker_pids.push_back(worker.pid);
  }
  facts.groups = groups_;
  if (waker_) {
    const std::optional<int> audio = output_->audio_thread_priority();
    facts.audio_thread_priority =
        audio ? "asks SCHED_FIFO " + std::to_string(*audio) : std::string("not real-time");
    facts.not_realtime_reason = realtime_.reason;
    facts.waker_scheduling = describe_applied_scheduling(waker_->scheduling());
    facts.worker_scheduling = describe_worker_scheduling(*segment_);
  }
  console_.out(format_startup_report(options_, plan_, facts));
}

int CoordinatorRun::start_and_play() {
  std::string error;
  // Checked first: a run must not play for an hour and then fail to write what was asked.
  if (!options_.report_path.empty()) {
    if (!check_file_can_be_created(options_.report_path, "--report", error)) return fail(error);
    report_path_usable_ = true;
  }
  std::string notice;
  if (!pin_this_process(options_.cpus, error)) return fail(error);  // --cpus, before any thread
  resources_ = InstanceResources::acquire(options_.name, options_.control_path, notice, error);
  if (!resources_) return fail(error);
  if (!notice.empty()) console_.err(notice);
  notice.clear();
  output_ = RunOutput::open(options_, error, notice);
  if (!notice.empty()) console_.err(notice + "\n");
  if (stopped_by_signal("while the audio output was opened")) return kExitOk;
  if (!output_) return fail(error);
  sample_rate_hz_ = output_->sample_rate_hz();
  facts_.output = output_->description();
  if (!options_.record_path.empty()) {
    recorder_ = Recorder::open(options_.record_path, sample_rate_hz_, options_.channels, error);
    if (!recorder_) return fail(error);
  }
  const bool workers_started = start_workers(error);
  if (stopped_by_signal("while the workers were starting")) return kExitOk;
  if (!workers_started) return fail(error);

  mixer_ = std::make_unique<Mixer>(*segment_, /*limit_output=*/!offline());
  if (recorder_) mixer_->set_tap(recorder_.get());
  if (!offline()) {
    waker_ = std::make_unique<WorkerWaker>(*segment_, realtime_.waker, realtime_.fallback_nice);
    mixer_->set_waker(waker_.get());
  }
  commands_ = std::make_unique<RunCommands>(facts_, *segment_, *mixer_, *supervisor_,
                                            recorder_.get(), *output_);
  // Both transports print through the run's console, so that no line lands inside the table.
  const ControlServer::Console server_console{
      [this](const std::string& text) { console_.out(text); },
      [this](const std::string& text) { console_.err(text); }};
  server_ = std::make_unique<ControlServer>(resources_->fifo(), *commands_, options_.workers,
                                            server_console);
  if (options_.osc_port) {
    std::string listening, warning;
    osc_ = OscServer::open(options_.osc_bind, *options_.osc_port, *commands_, options_.workers,
                           server_console, listening, warning, error);
    if (!osc_) return fail(error);
    console_.out(listening);
    if (!warning.empty()) console_.err(warning);
  }
  print_startup_report();
  if (!options_.quiet && isatty(STDOUT_FILENO)) console_.show_terminal_status();
  if (!offline()) supervisor_->wait_for_prefill(rings_.fill_target_frames);
  if (stopped_by_signal("while the rings were filling")) return kExitOk;
  if (!offline()) {
    // Before the output starts: the first callbacks take no page fault (MCL_FUTURE, where the
    // limit allows, also locks the output thread's stack as it is created).
    facts_.memory = lock_memory(&segment_->header(), segment_->geometry().segment_bytes);
    console_.out("synthfarm: " + facts_.memory + "\n");
  }
  if (!output_->start(*mixer_, *segment_, duration_frames().value_or(0), error)) {
    return fail(error);
  }
  return control_loop();
}

int CoordinatorRun::control_loop() {
  ControlLoop loop({signals_, *server_, osc_.get(), *supervisor_, *mixer_, *output_, *commands_,
                    console_, facts_},
                   {options_.duration_seconds, duration_frames(), rings_.fill_target_frames});
  const ControlLoop::End end = loop.run();
  output_gone_ = end.output_gone;
  return end.failure ? fail(*end.failure) : end.exit_code;
}

bool CoordinatorRun::stopped_by_signal(const std::string& stage) {
  const auto signal = signals_.take();
  if (!signal) return false;
  console_.out("synthfarm: " + *signal + " received; stopping (the start-up ends " + stage + ")\n");
  return true;
}

void CoordinatorRun::teardown() {
  if (output_) output_->stop(signals_.fd(), output_gone_);  // nothing calls the mixer from now on
  if (mixer_) mixer_->set_waker(nullptr);  // the final report must not reach the waker
  waker_.reset();                          // the output no longer notifies it
  if (recorder_) recorder_->finish();      // nor feeds this
  if (supervisor_ && supervisor_->stop_all()) {
    console_.out("synthfarm: signal received again; the workers were killed at once\n");
  }
  server_.reset();  // it reads the FIFO, which goes next
  if (resources_) resources_->release_names();
}

int CoordinatorRun::run() {
  const int exit_code = start_and_play();
  teardown();
  console_.hide_terminal_status();
  if (output_ && output_->fade_out()) print_fade_out(console_, *output_->fade_out());
  if (!commands_) {
    // Nothing played, so nothing to count; a script that asked for a report still gets one.
    if (report_path_usable_) {
      write_failed_start_report(options_, plan_, facts_.error, exit_code, console_);
    }
    return exit_code;
  }
  return finish_played_run(
      options_, *commands_, *output_, console_,
      [this](const std::string& message) { return fail(message); }, exit_code);
}

}  // namespace

int run_coordinator(const Options& options, const OscillatorPlan& plan) {
  std::string error;
  const auto signals = StopSignals::block(error);
  if (!signals) {
    std::fprintf(stderr, "synthfarm: %s\n", error.c_str());
    return kExitFailure;
  }
  return CoordinatorRun(options, plan, *signals).run();
}

}  // namespace synthfarm
