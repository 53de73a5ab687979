#include "coordinator/coordinator_run.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "coordinator/control/control_server.h"
#include "coordinator/control/osc_server.h"
#include "coordinator/mix/ring_plan.h"
#include "coordinator/report/run_console.h"
#include "coordinator/report/startup_report.h"
#include "coordinator/report/status_text.h"
#include "coordinator/run_commands.h"
#include "coordinator/run_output.h"
#include "coordinator/supervision/cpu_placement.h"
#include "coordinator/supervision/instance_resources.h"
#include "coordinator/supervision/output_watchdog.h"
#include "coordinator/supervision/segment_setup.h"
#include "coordinator/supervision/stop_signals.h"
#include "shared/realtime_setup.h"

namespace synthfarm {
namespace {

// How often the control thread checks --duration, due worker replacements and the watchdog.
constexpr int kControlTickMs = 50;

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
  bool offline() const { return !options_.output_path.empty(); }
  int fail(const std::string& message) {
    console_.error(message);
    if (facts_.error.empty()) facts_.error = message;  // the first failure is the cause
    return kExitFailure;
  }
  int start_and_play();
  // --duration in frames of the output's rate; 0 without --duration.
  std::uint64_t duration_frames() const {
    return options_.duration_seconds ? static_cast<std::uint64_t>(std::llround(
                                           *options_.duration_seconds * sample_rate_hz_))
                                     : 0;
  }
  // The segment, the FIFO, and every worker attached to the segment.
  bool start_workers(std::string& error);
  void print_startup_report();
  int control_loop();
  void report_output_thread_once();
  // Thread: control. A command's outcome that came later (a report written in the background),
  // as the control server prints one: stdout when it succeeded, stderr when not.
  void print_command_result(const CommandResult& result);
  // Thread: control, during start-up. Takes a pending stop signal and says that it ends the
  // start-up at `stage` (the teardown is the same as at any end); false when none came.
  bool stopped_by_signal(const std::string& stage);
  // Thread: control, after teardown(). Says whether the live fade-out was played.
  void report_fade_out(const RunOutput::FadeOut& fade);
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
  std::uint32_t sample_rate_hz_ = 0;
  RingPlan rings_{};
  std::unique_ptr<Recorder> recorder_;
  std::optional<Segment> segment_;
  std::vector<WorkerGroup> groups_;
  std::unique_ptr<WorkerSupervisor> supervisor_;
  std::unique_ptr<Mixer> mixer_;
  std::unique_ptr<WorkerWaker> waker_;  // live outputs only: the file thread may wake directly
  std::unique_ptr<RunCommands> commands_;
  std::unique_ptr<ControlServer> server_;
  std::unique_ptr<OscServer> osc_;  // --osc-port only
  bool output_thread_reported_ = false;
};

bool CoordinatorRun::start_workers(std::string& error) {
  rings_ = plan_segment_rings(output_->block_frames(), options_.buffers, offline());
  facts_.added_latency_frames = offline() ? 0 : rings_.fill_target_frames;
  segment_ = resources_->create_segment(options_.workers, options_.channels, rings_.ring_frames,
                                        plan_.frequencies_hz.size(), error);
  if (!segment_) return false;
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
    waker_ = std::make_unique<WorkerWaker>(*segment_);
    mixer_->set_waker(waker_.get());
  }
  commands_ = std::make_unique<RunCommands>(facts_, *segment_, *mixer_, *supervisor_,
                                            recorder_.get(), *output_);
  server_ = std::make_unique<ControlServer>(
      resources_->fifo(), *commands_, options_.workers,
      ControlServer::Console{[this](const std::string& text) { console_.out(text); },
                             [this](const std::string& text) { console_.err(text); }});
  if (options_.osc_port) {
    std::string listening, warning;
    osc_ =
        OscServer::open(options_.osc_bind, *options_.osc_port, *commands_, options_.workers,
                        ControlServer::Console{[this](const std::string& t) { console_.out(t); },
                                               [this](const std::string& t) { console_.err(t); }},
                        listening, warning, error);
    if (!osc_) return fail(error);
    console_.out(listening);
    if (!warning.empty()) console_.err(warning);
  }
  print_startup_report();
  if (!options_.quiet && isatty(STDOUT_FILENO)) console_.show_terminal_status();
  if (!offline()) supervisor_->wait_for_prefill(rings_.fill_target_frames);
  if (stopped_by_signal("while the rings were filling")) return kExitOk;
  if (!output_->start(*mixer_, *segment_, duration_frames(), error)) return fail(error);
  if (!offline()) {
    // Locked now that the output's own thread (and its stack) exists too: everything the
    // callback touches, from the first period on.
    facts_.memory = lock_memory(&segment_->header(), segment_->geometry().segment_bytes);
    console_.out("synthfarm: " + facts_.memory + "\n");
  }
  return control_loop();
}

int CoordinatorRun::control_loop() {
  OutputWatchdog watchdog(output_->block_frames(), sample_rate_hz_,
                          std::chrono::steady_clock::now());
  const auto mixer_stopped_slot = [&](std::uint32_t w) {
    return mixer_->phase(w) != Mixer::Phase::kPlaying;
  };
  while (true) {
    std::vector<pollfd> fds{{signals_.fd(), POLLIN, 0}, {server_->fd(), POLLIN, 0}};
    if (offline()) fds.push_back({output_->done_fd(), POLLIN, 0});
    const std::size_t osc_at = fds.size();
    if (osc_) fds.push_back({osc_->fd(), POLLIN, 0});
    supervisor_->add_poll_fds(fds);
    server_->add_poll_fds(fds);  // replies waiting for room
    // Lines left from the last serve() are not seen by poll: look again at once.
    const int timeout_ms = server_->has_unread_lines() ? 0 : kControlTickMs;
    if (poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) {
      return fail(std::string("poll failed: ") + std::strerror(errno));
    }
    if (const auto signal = (fds[0].revents & POLLIN) ? signals_.take() : std::nullopt) {
      console_.out("synthfarm: " + *signal + " received; stopping\n");
      return kExitOk;
    }
    server_->send_pending_replies(std::chrono::steady_clock::now());
    if (((fds[1].revents & POLLIN) || server_->has_unread_lines()) && server_->serve()) {
      return kExitOk;
    }
    if (const auto report = commands_->take_finished_report()) print_command_result(*report);
    if (osc_ && (fds[osc_at].revents & POLLIN) && osc_->serve()) return kExitOk;
    std::vector<std::string> messages;
    const bool keep_playing = supervisor_->reap_exited(messages);
    for (const std::string& message : messages) console_.error(message);
    if (!keep_playing) return kExitFailure;
    report_output_thread_once();
    console_.redraw(std::chrono::steady_clock::now(), [&](TerminalStatus& terminal) {
      if (offline()) {
        terminal.update_progress(
            static_cast<double>(mixer_->stats().frames.load(std::memory_order_relaxed)) /
                sample_rate_hz_,
            *options_.duration_seconds);
      } else {
        terminal.update_live(commands_->statistics(),
                             1000.0 * rings_.fill_target_frames / sample_rate_hz_);
      }
    });
    std::string error;
    messages.clear();
    const bool started = supervisor_->start_due_replacements(mixer_stopped_slot, messages, error);
    for (const std::string& message : messages) console_.out("synthfarm: " + message + "\n");
    if (!started) return fail(error);
    if (offline()) {
      if (!(fds[2].revents & POLLIN)) continue;
      const std::string render_error = output_->finish_render();
      return render_error.empty() ? kExitOk : fail(render_error);
    }
    // The output's own word first (JACK's shutdown, a buffer it cannot follow); the watchdog
    // catches an output that stops calling back without one.
    if (const std::string failure = output_->failure(); !failure.empty()) {
      return fail(failure + "; exiting");
    }
    const auto calls = mixer_->stats().calls.load(std::memory_order_relaxed);
    if (const auto silent = watchdog.silent_for(calls, std::chrono::steady_clock::now())) {
      return fail("the audio output stopped asking for audio for " +
                  std::to_string(silent->count()) +
                  " ms (did the JACK or PulseAudio server stop?); exiting");
    }
    if (options_.duration_seconds &&
        mixer_->stats().frames.load(std::memory_order_relaxed) >= duration_frames()) {
      return kExitOk;
    }
  }
}

void CoordinatorRun::report_output_thread_once() {
  if (output_thread_reported_ || offline()) return;
  const auto thread = mixer_->output_thread();
  if (!thread) return;
  output_thread_reported_ = true;
  facts_.realtime_scheduling = describe_thread_scheduling(*thread);
  console_.out("synthfarm: audio thread: " + facts_.realtime_scheduling + "\n");
}

void CoordinatorRun::print_command_result(const CommandResult& result) {
  if (result.ok) {
    console_.out(result.text);
  } else {
    console_.err("synthfarm: " + result.text);
  }
}

bool CoordinatorRun::stopped_by_signal(const std::string& stage) {
  const auto signal = signals_.take();
  if (!signal) return false;
  console_.out("synthfarm: " + *signal + " received; stopping (the start-up ends " + stage + ")\n");
  return true;
}

void CoordinatorRun::report_fade_out(const RunOutput::FadeOut& fade) {
  const std::string after = std::to_string(fade.buffers_after_fade);
  if (fade.interrupted) {
    console_.out("synthfarm: fade-out cut short by a second signal\n");
  } else if (fade.faded && fade.buffers_after_fade >= RunOutput::kBuffersAfterFadeOut) {
    console_.out("synthfarm: faded out; the output played " + after + " buffers after the fade\n");
  } else {
    console_.error("the output stopped before the fade-out was played (" +
                   std::string(fade.faded ? "it asked for only " + after + " buffers after it"
                                          : "the fade was not computed") +
                   "); the end may click");
  }
}

void CoordinatorRun::teardown() {
  if (output_) output_->stop(signals_.fd());  // nothing calls the mixer from now on
  waker_.reset();                             // the output no longer notifies it
  if (recorder_) recorder_->finish();         // nor feeds this
  if (supervisor_ && supervisor_->stop_all()) {
    console_.out("synthfarm: signal received again; the workers were killed at once\n");
  }
  server_.reset();  // it reads the FIFO, which goes next
  if (resources_) resources_->release_names();
}

int CoordinatorRun::run() {
  int exit_code = start_and_play();
  teardown();
  console_.hide_terminal_status();
  if (output_ && output_->fade_out()) report_fade_out(*output_->fade_out());
  if (!commands_) {
    // Nothing played, so nothing to count; a script that asked for a report still gets one.
    std::string error;
    if (report_path_usable_ &&
        !write_text_file_atomically(
            options_.report_path,
            format_failed_start_report(options_, plan_, facts_.error, exit_code), error)) {
      console_.error("--report: " + error);
    }
    return exit_code;
  }
  console_.out(commands_->status_text("final"));
  if (const auto recording = commands_->recording()) {
    console_.out(format_recording_summary(*recording, sample_rate_hz_));
    if (!recording->error.empty()) {
      console_.error("--record: " + recording->error);
      exit_code = kExitFailure;
    } else if (const auto dropped = describe_dropped_recording(*recording)) {
      console_.error(*dropped);
    }
  }
  if (const OfflineRender* render = output_->render(); render && exit_code == kExitOk) {
    console_.out(format_render_summary(render->frames_written(), sample_rate_hz_, render->path()));
    if (!render->error().empty()) exit_code = fail(render->error());
  }
  if (const auto report = commands_->finish_background_report()) print_command_result(*report);
  if (!options_.report_path.empty()) {
    std::string error;
    if (commands_->write_report(options_.report_path, "exit", exit_code, error)) {
      console_.out("synthfarm: report written to " + options_.report_path + "\n");
    } else {
      exit_code = fail("--report: " + error);
    }
  }
  return exit_code;
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
