#include "coordinator/coordinator_run.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <thread>

#include "coordinator/control/control_client.h"
#include "coordinator/control/control_command.h"
#include "coordinator/control/control_fifo.h"
#include "coordinator/mix/mixer.h"
#include "coordinator/mix/ring_plan.h"
#include "coordinator/output/audio_output.h"
#include "coordinator/output/offline_render.h"
#include "coordinator/output/recorder.h"
#include "coordinator/plan/frequency_plan.h"
#include "coordinator/report/live_status.h"
#include "coordinator/report/run_report.h"
#include "coordinator/report/run_statistics.h"
#include "coordinator/supervision/instance_lock.h"
#include "coordinator/supervision/worker_commands.h"
#include "coordinator/supervision/worker_launcher.h"
#include "shared/realtime_setup.h"
#include "shared/segment.h"
#include "shared/shared_futex.h"

namespace synthfarm {
namespace {

using namespace std::chrono_literals;

constexpr auto kAttachTimeout = 5s;
constexpr auto kPrefillTimeout = 2s;
constexpr auto kWorkerGrace = 1000ms;
// RtAudio 5.2 does not report a vanished JACK server: an output that has not asked for audio for
// this long, or four of its periods if those are longer, is taken as gone.
constexpr auto kOutputWatchdog = 500ms;
// How often the control thread checks --duration and due worker replacements.
constexpr int kControlTickMs = 50;
// How often the live status or the progress bar is redrawn on a terminal.
constexpr auto kTerminalRedraw = 250ms;
// How long the control thread waits for a slow `synthfarm ctl` to take a long reply.
constexpr auto kReplyTimeout = 2s;
// --on-worker-failure restart: the back-off for a worker that keeps dying.
constexpr auto kReplacementFirstBackoff = std::chrono::milliseconds(100);
constexpr auto kReplacementMaxBackoff = std::chrono::milliseconds(5000);
constexpr auto kReplacementForgiveAfter = std::chrono::seconds(10);

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

void print_error(const std::string& message) {
  std::fprintf(stderr, "synthfarm: %s\n", message.c_str());
}

// One run's resources, created in order by run() and released in reverse by teardown(), on
// every path: nothing is left in /dev/shm, no FIFO, no worker process.
class CoordinatorRun {
 public:
  CoordinatorRun(const Options& options, const OscillatorPlan& plan, int signal_fd)
      : options_(options), plan_(plan), signal_fd_(signal_fd) {}
  ~CoordinatorRun() { teardown(); }

  int run();

 private:
  // Everything up to the end of playing; returns the exit code so far.
  int start_and_play();
  bool offline() const { return !options_.output_path.empty(); }
  int fail(const std::string& message) {
    say_error(message);
    if (failure_.empty()) failure_ = message;  // the first failure is the cause
    return kExitFailure;
  }
  bool open_output(std::string& error);
  bool create_segment(std::string& error);
  bool spawn_workers(std::string& error);
  bool wait_until_attached(std::string& error);
  void wait_for_prefill();
  void print_startup_report();
  int control_loop();
  void handle_control_line(std::string_view line, bool too_long, bool& quit);
  // What a command did, for stdout or for the `synthfarm ctl` that asked.
  struct CommandResult {
    bool ok = true;
    std::string text;  // whole lines, each ending in a newline
    bool log = true;   // also worth a line on stdout when a `ctl` asked (a change, not a query)
  };
  CommandResult apply(const ControlCommand& command);
  CommandResult reseed(std::optional<std::uint32_t> worker, std::uint64_t seed);
  // The reply FIFO of the `synthfarm ctl` that asked, opened for writing and checked to be a
  // FIFO of this user; -1 with `error` otherwise.
  int open_reply_fifo(const std::string& reply_path, std::string& error);
  // Sends a command's result there and closes `fd`.
  void send_reply(int fd, const std::string& reply_path, const CommandResult& result);
  // Prints on stdout or stderr, first erasing the live status so the two do not mix.
  void say(std::FILE* stream, const std::string& text);
  void say_error(const std::string& message) { say(stderr, "synthfarm: " + message + "\n"); }
  void redraw_terminal(std::chrono::steady_clock::time_point now);
  void report_output_thread_once();
  RunStatistics statistics() const;
  bool write_report(const std::string& path, const std::string& reason,
                    std::optional<int> exit_code, std::string& error) const;
  // Reaps exited workers and reports them. Returns false when the failure policy says the run
  // must end (--on-worker-failure abort).
  bool reap_workers();
  // --on-worker-failure restart: asks the mixer to stop the dead worker's slot now, and plans
  // its replacement; start_due_replacements() starts it once the mixer has stopped the slot.
  void plan_replacement(const WorkerProcess& worker);
  bool start_due_replacements(std::string& error);
  std::string format_status(const char* label) const;
  void fade_out_and_stop_output();
  void teardown();

  const Options& options_;
  const OscillatorPlan& plan_;
  int signal_fd_;
  std::unique_ptr<InstanceLock> lock_;
  std::unique_ptr<AudioOutput> output_;
  std::unique_ptr<OfflineRender> offline_;
  std::uint32_t sample_rate_hz_ = 0;
  std::uint32_t block_frames_ = 0;
  RingPlan rings_{};
  std::string segment_name_;
  bool segment_name_removed_ = true;
  std::optional<Segment> segment_;
  std::unique_ptr<ControlFifo> fifo_;
  std::vector<WorkerGroup> groups_;
  std::vector<WorkerProcess> workers_;
  struct Replacement {
    bool pending = false;
    bool keep_stopped = false;  // the user had stopped the worker: the new one stays stopped
    unsigned quick_failures = 0;
    std::chrono::steady_clock::time_point due{};
    std::chrono::steady_clock::time_point last_start{};
  };
  std::vector<Replacement> replacements_;
  std::unique_ptr<Mixer> mixer_;
  std::unique_ptr<Recorder> recorder_;
  std::unique_ptr<WorkerWaker> waker_;  // live outputs only: the file thread may wake directly
  // Set when stdout is a terminal and --quiet is not given.
  std::optional<TerminalStatus> terminal_;
  std::chrono::steady_clock::time_point last_redraw_{};
  std::string realtime_scheduling_ = "not known yet";
  std::string memory_ = "not locked (offline)";
  bool output_thread_reported_ = false;
  std::string failure_;  // the first error message, for the report
  bool report_path_usable_ = false;
  std::vector<RunReportContext::Reseed> reseeds_;
  bool output_running_ = false;
  bool shutting_down_ = false;
};

bool CoordinatorRun::open_output(std::string& error) {
  if (offline()) {
    offline_ = OfflineRender::open(options_.output_path, options_.sample_rate_hz, options_.channels,
                                   error);
    sample_rate_hz_ = options_.sample_rate_hz;
    block_frames_ = options_.block_frames;
    return offline_ != nullptr;
  }
  std::string notice;
  output_ = open_audio_output(options_, error, notice);
  if (!notice.empty()) std::fprintf(stderr, "%s\n", notice.c_str());
  if (!output_) return false;
  sample_rate_hz_ = output_->sample_rate_hz();
  block_frames_ = output_->buffer_frames();
  return true;
}

bool CoordinatorRun::create_segment(std::string& error) {
  rings_ = plan_rings(block_frames_, offline());
  segment_name_ = segment_name_for(options_.name, getpid());
  segment_ = Segment::create(segment_name_, options_.workers, options_.channels, rings_.ring_frames,
                             plan_.frequencies_hz.size(), error);
  if (!segment_) return false;
  segment_name_removed_ = false;
  SegmentHeader& header = segment_->header();
  header.sample_rate_hz = sample_rate_hz_;
  header.block_frames = block_frames_;
  header.fill_target_frames = rings_.fill_target_frames;
  header.coordinator_pid = getpid();
  header.kernel = static_cast<std::uint32_t>(options_.kernel);
  header.simd_target = options_.simd.highway_target;
  std::copy(plan_.frequencies_hz.begin(), plan_.frequencies_hz.end(),
            segment_->frequencies_hz().begin());
  groups_ = deal_contiguous_groups(plan_.frequencies_hz.size(), options_.workers);
  for (std::uint32_t w = 0; w < options_.workers; ++w) {
    WorkerSlot& slot = segment_->slot(w);
    slot.first_oscillator = groups_[w].first_oscillator;
    slot.oscillator_count = groups_[w].oscillator_count;
    slot.feedback.store(static_cast<float>(options_.feedback), std::memory_order_relaxed);
    slot.mul.store(static_cast<float>(options_.mul), std::memory_order_relaxed);
  }
  return true;
}

bool CoordinatorRun::spawn_workers(std::string& error) {
  const std::string executable = worker_executable_path();
  for (std::uint32_t w = 0; w < options_.workers; ++w) {
    auto worker = spawn_worker(executable, segment_name_, segment_->descriptor(), w, error);
    if (!worker) return false;
    workers_.push_back(*worker);
  }
  return true;
}

bool CoordinatorRun::wait_until_attached(std::string& error) {
  SegmentHeader& header = segment_->header();
  const auto all_attached = [&] {
    return std::all_of(workers_.begin(), workers_.end(), [&](const WorkerProcess& worker) {
      // Acquire pairs with the worker's release of `attached`.
      return segment_->slot(worker.index).attached.load(std::memory_order_acquire) != 0;
    });
  };
  const auto deadline = std::chrono::steady_clock::now() + kAttachTimeout;
  while (!all_attached()) {
    for (auto& worker : workers_) {
      if (reap_if_exited(worker)) {
        error = "worker " + std::to_string(worker.index) + " (pid " + std::to_string(worker.pid) +
                ") " + describe_wait_status(worker.wait_status) +
                " while starting; see its message above";
        return false;
      }
    }
    if (std::chrono::steady_clock::now() > deadline) {
      error = "workers did not attach to the shared memory within " +
              std::to_string(kAttachTimeout.count()) + " s (is the machine overloaded?)";
      return false;
    }
    sleep_until_ready(header.attach_wake, all_attached, 100ms);
  }
  return true;
}

void CoordinatorRun::wait_for_prefill() {
  const auto deadline = std::chrono::steady_clock::now() + kPrefillTimeout;
  for (auto& worker : workers_) {
    WorkerSlot& slot = segment_->slot(worker.index);
    SpscRing ring = segment_->ring(worker.index);
    const auto filled = [&] { return ring.available_frames() >= rings_.fill_target_frames; };
    while (!filled() && std::chrono::steady_clock::now() < deadline && !reap_if_exited(worker)) {
      sleep_until_ready(slot.data_ready, filled, 100ms);
    }
  }
}

void CoordinatorRun::print_startup_report() {
  const std::uint64_t total = plan_.frequencies_hz.size();
  std::printf("synthfarm %s: %u workers, %" PRIu64
              " oscillators (pyo SineLoop), feedback %g, mul %g\n",
              SYNTHFARM_VERSION, options_.workers, total, options_.feedback, options_.mul);
  std::printf("synthfarm: kernel %s\n", describe_kernel(options_.kernel, options_.simd).c_str());
  if (plan_.seed) {
    std::printf("synthfarm: frequencies %g-%g Hz drawn with seed %" PRIu64
                " (repeat this run with --seed %" PRIu64 ")\n",
                options_.freq_min_hz, options_.freq_max_hz, *plan_.seed, *plan_.seed);
  } else {
    std::printf("synthfarm: frequencies from %s\n", options_.freqs_file.c_str());
  }
  if (offline()) {
    std::printf("synthfarm: rendering %.6g s offline to %s (float32 WAV, %u Hz, %u channels)\n",
                *options_.duration_seconds, options_.output_path.c_str(), sample_rate_hz_,
                options_.channels);
  } else {
    std::printf("synthfarm: output: %s, %u channels\n", output_->description().c_str(),
                options_.channels);
    std::printf(
        "synthfarm: added latency %u frames (%.1f ms): each worker renders 2 buffers "
        "ahead\n",
        rings_.fill_target_frames, 1000.0 * rings_.fill_target_frames / sample_rate_hz_);
  }
  if (recorder_) {
    std::printf("synthfarm: recording to %s (float32 WAV, %u Hz, %u channels)\n",
                recorder_->path().c_str(), sample_rate_hz_, options_.channels);
  }
  if (!options_.report_path.empty()) {
    std::printf("synthfarm: report at exit to %s\n", options_.report_path.c_str());
  }
  {
    // Each worker locked its own memory before it attached (render_loop.cpp).
    unsigned failures = 0;
    int first_error = 0;
    for (const auto& worker : workers_) {
      // Relaxed: published by the worker's release of `attached`, which attach waited for.
      const int error =
          segment_->slot(worker.index).memory_lock_errno.load(std::memory_order_relaxed);
      if (error != 0 && failures++ == 0) first_error = error;
    }
    std::printf("synthfarm: %s\n", describe_worker_memory(static_cast<unsigned>(workers_.size()),
                                                          failures, first_error)
                                       .c_str());
  }
  std::printf("synthfarm: control FIFO %s (%s; or synthfarm ctl --name %s COMMAND)\n",
              fifo_->path().c_str(), kControlHelp, options_.name.c_str());
  for (const auto& worker : workers_) {
    const WorkerGroup& group = groups_[worker.index];
    std::printf("synthfarm: worker %u pid %d plays oscillators %" PRIu64 "-%" PRIu64 "\n",
                worker.index, worker.pid, group.first_oscillator,
                group.first_oscillator + group.oscillator_count - 1);
  }
  std::fflush(stdout);
}

void CoordinatorRun::say(std::FILE* stream, const std::string& text) {
  if (terminal_) terminal_->clear();
  std::fputs(text.c_str(), stream);
  std::fflush(stream);
}

RunStatistics CoordinatorRun::statistics() const {
  std::vector<WorkerProcessView> views;
  views.reserve(workers_.size());
  for (const auto& worker : workers_) {
    // A worker that died while playing stays "dead" in the final status and the report, even
    // though the run then ended: a batch user must see that its oscillators were lost.
    const char* state = !worker.reaped              ? phase_name(mixer_->phase(worker.index))
                        : worker.died_while_playing ? "dead"
                                                    : "exited";
    views.push_back({worker.pid, state,
                     worker.died_while_playing ? describe_wait_status(worker.wait_status) : ""});
  }
  return collect_statistics(*mixer_, *segment_, views);
}

std::string CoordinatorRun::format_status(const char* label) const {
  const RunStatistics run = statistics();
  const double period_us = run.period_ns() / 1e3;
  std::string text;
  char line[1024];
  std::snprintf(line, sizeof line,
                "%s: seconds=%.3f timeline_frames=%" PRIu64 " callbacks=%" PRIu64
                " callback_avg_us=%.1f callback_p99_us=%.1f callback_max_us=%.1f period_us=%.1f "
                "device_underflows=%" PRIu64 " nonfinite_samples=%" PRIu64
                " limited_samples=%" PRIu64 " gain_db=%.2f\n",
                label, run.seconds(), run.timeline_frames, run.callbacks,
                run.callback.mean_ns() / 1e3,
                static_cast<double>(run.callback.quantile_ns(0.99)) / 1e3,
                static_cast<double>(run.callback.max_ns) / 1e3, period_us, run.device_underflows,
                run.nonfinite_samples, run.limited_samples, run.gain_db);
  text += line;
  if (recorder_) {
    std::snprintf(line, sizeof line,
                  "%s recording: path=%s frames_written=%" PRIu64 " frames_dropped=%" PRIu64 "\n",
                  label, recorder_->path().c_str(), recorder_->frames_written(),
                  recorder_->frames_dropped());
    text += line;
  }
  for (const WorkerStatistics& worker : run.workers) {
    const double load =
        worker.render_time.count ? 100.0 * worker.render_time.mean_ns() / run.period_ns() : 0.0;
    std::snprintf(
        line, sizeof line,
        "%s worker %u: state=%s pid=%d oscillators=%u rendered_frames=%" PRIu64
        " underrun_frames=%" PRIu64 " late_blocks=%" PRIu64 " discarded_frames=%" PRIu64
        " render_load=%.1f%% render_max_us=%.1f feedback=%g mul=%g\n",
        label, worker.index, worker.state.c_str(), worker.pid, worker.oscillators,
        worker.rendered_frames, worker.underrun_frames, worker.late_blocks, worker.discarded_frames,
        load, static_cast<double>(worker.render_time.max_ns) / 1e3, worker.feedback, worker.mul);
    text += line;
  }
  return text;
}

bool CoordinatorRun::write_report(const std::string& path, const std::string& reason,
                                  std::optional<int> exit_code, std::string& error) const {
  RunReportContext context;
  context.options = &options_;
  context.plan = &plan_;
  context.output = offline() ? "offline file " + options_.output_path : output_->description();
  context.added_latency_frames = offline() ? 0 : rings_.fill_target_frames;
  context.realtime_scheduling = offline() ? "not used (offline)" : realtime_scheduling_;
  context.memory = memory_;
  context.reseeds = reseeds_;
  context.error = failure_;
  if (recorder_) {
    context.recording =
        RunReportContext::Recording{recorder_->path(), recorder_->frames_written(),
                                    recorder_->frames_dropped(), recorder_->error()};
  }
  return write_text_file_atomically(
      path, format_run_report(context, statistics(), reason, exit_code), error);
}

CoordinatorRun::CommandResult CoordinatorRun::reseed(std::optional<std::uint32_t> worker,
                                                     std::uint64_t seed) {
  reseed_workers(*segment_, worker, seed, options_.freq_min_hz, options_.freq_max_hz);
  reseeds_.push_back({worker ? std::to_string(*worker) : std::string("all"), seed,
                      static_cast<double>(mixer_->stats().frames.load(std::memory_order_relaxed)) /
                          sample_rate_hz_});
  return {true, "control: reseed " + (worker ? std::to_string(*worker) : std::string("all")) + " " +
                    std::to_string(seed) + "\n"};
}

CoordinatorRun::CommandResult CoordinatorRun::apply(const ControlCommand& command) {
  const std::string target = command.worker ? std::to_string(*command.worker) : "all";
  switch (command.verb) {
    case ControlCommand::Verb::kStatus:
      return {true, format_status("status"), false};
    case ControlCommand::Verb::kQuit:
      return {true, "control: quit\n"};
    case ControlCommand::Verb::kStop:
    case ControlCommand::Verb::kPlay: {
      const auto request = command.verb == ControlCommand::Verb::kStop ? RequestedState::kStop
                                                                       : RequestedState::kPlay;
      for (std::uint32_t w = 0; w < options_.workers; ++w) {
        if (command.worker && *command.worker != w) continue;
        // Release pairs with the mixer's acquire; it carries the request out at its next call.
        segment_->slot(w).requested_state.store(static_cast<std::uint32_t>(request),
                                                std::memory_order_release);
      }
      return {true, std::string("control: ") +
                        (request == RequestedState::kStop ? "stop " : "play ") + target + "\n"};
    }
    case ControlCommand::Verb::kSet: {
      for (std::uint32_t w = 0; w < options_.workers; ++w) {
        if (command.worker && *command.worker != w) continue;
        set_worker_parameter(*segment_, w, command.parameter, static_cast<float>(command.value));
      }
      char value[64];
      std::snprintf(value, sizeof value, "%g", command.value);
      return {true, "control: set " + target + " " +
                        (command.parameter == WorkerParameter::kFeedback ? "feedback " : "mul ") +
                        value + "\n"};
    }
    case ControlCommand::Verb::kGain: {
      mixer_->master().set_gain_db(command.value);
      char text[64];
      std::snprintf(text, sizeof text, "control: gain %g dB\n", command.value);
      return {true, text};
    }
    case ControlCommand::Verb::kReseed:
      return reseed(command.worker, command.seed);
    case ControlCommand::Verb::kReport: {
      std::string error;
      if (!write_report(command.path, "command", std::nullopt, error)) return {false, error + "\n"};
      return {true, "control: report written to " + command.path + "\n"};
    }
  }
  return {false, "control: unknown command\n"};
}

int CoordinatorRun::open_reply_fifo(const std::string& reply_path, std::string& error) {
  if (reply_path.empty() || reply_path.front() != '/') {
    error = "reply-to needs the absolute path of a FIFO";
    return -1;
  }
  // Opened first and checked through the descriptor (no symlink followed, no window between a
  // check and the open): a path on the control FIFO must never become a way to overwrite a file.
  const int fd = open(reply_path.c_str(), O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot open the reply FIFO " + reply_path + ": " + std::strerror(errno) +
            " (did synthfarm ctl give up?)";
    return -1;
  }
  struct stat status {};
  if (fstat(fd, &status) != 0 || !S_ISFIFO(status.st_mode) || status.st_uid != geteuid()) {
    close(fd);
    error = "reply-to " + reply_path + " is not a FIFO of this user";
    return -1;
  }
  return fd;
}

void CoordinatorRun::send_reply(int fd, const std::string& reply_path,
                                const CommandResult& result) {
  // The body, then the last line ctl waits for (control_client.h).
  const std::string text = result.text + std::string(result.ok ? kReplyOk : kReplyError) + "\n";
  std::size_t sent = 0;
  const auto deadline = std::chrono::steady_clock::now() + kReplyTimeout;
  while (sent < text.size()) {
    const ssize_t written = write(fd, text.data() + sent, text.size() - sent);
    if (written > 0) {
      sent += static_cast<std::size_t>(written);
      continue;
    }
    if (written < 0 && errno != EAGAIN && errno != EINTR) break;
    // The reader is slower than the reply is long (over 64 KiB): wait for room, not forever.
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd room{fd, POLLOUT, 0};
    if (left.count() <= 0 || poll(&room, 1, static_cast<int>(left.count())) <= 0) break;
  }
  close(fd);
  if (sent < text.size()) {
    say_error("control: the reply to " + reply_path + " was cut short after " +
              std::to_string(sent) + " of " + std::to_string(text.size()) + " bytes");
  }
}

void CoordinatorRun::handle_control_line(std::string_view line, bool too_long, bool& quit) {
  if (too_long) {
    say_error("control: a line longer than " + std::to_string(ControlFifo::kMaxLineBytes) +
              " bytes was ignored");
    return;
  }
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;  // blank: ignore
  // `synthfarm ctl` prefixes its command with where the answer goes (control_client.h).
  std::string reply_path;
  int reply_fd = -1;
  if (line.starts_with(kReplyToPrefix)) {
    line.remove_prefix(kReplyToPrefix.size());
    const auto end = line.find(' ');
    reply_path = std::string(line.substr(0, end));
    line = end == std::string_view::npos ? std::string_view() : line.substr(end + 1);
    std::string error;
    reply_fd = open_reply_fifo(reply_path, error);
    if (reply_fd < 0) {
      say_error("control: " + error + "; nothing changed");
      return;
    }
  }
  CommandResult result;
  if (quit) {
    // A line read together with an earlier `quit`: not carried out, but answered.
    result = {false, "control: the instance is quitting; '" + std::string(line) +
                         "' was not carried out\n"};
  } else {
    auto parsed = parse_control_line(line, options_.workers);
    if (auto* message = std::get_if<std::string>(&parsed)) {
      result = {false, *message + "; nothing changed\n"};
    } else {
      const auto& command = std::get<ControlCommand>(parsed);
      try {
        result = apply(command);
      } catch (const std::exception& failure) {
        // Nothing in apply() should throw; if something does, the instance plays on.
        result = {false, std::string("control: '") + std::string(line) +
                             "' failed: " + failure.what() + "\n"};
      }
      if (command.verb == ControlCommand::Verb::kQuit) quit = true;
    }
    if (result.ok && (reply_path.empty() || result.log)) say(stdout, result.text);
    if (!result.ok) say(stderr, "synthfarm: " + result.text);
  }
  if (reply_fd >= 0) send_reply(reply_fd, reply_path, result);
}

void CoordinatorRun::report_output_thread_once() {
  if (output_thread_reported_ || offline() || !mixer_) return;
  const auto thread = mixer_->output_thread();
  if (!thread) return;
  output_thread_reported_ = true;
  realtime_scheduling_ = describe_thread_scheduling(*thread);
  say(stdout, "synthfarm: audio thread: " + realtime_scheduling_ + "\n");
}

void CoordinatorRun::redraw_terminal(std::chrono::steady_clock::time_point now) {
  if (!terminal_ || now - last_redraw_ < kTerminalRedraw) return;
  last_redraw_ = now;
  if (offline()) {
    terminal_->update_progress(
        static_cast<double>(mixer_->stats().frames.load(std::memory_order_relaxed)) /
            sample_rate_hz_,
        *options_.duration_seconds);
  } else {
    terminal_->update_live(statistics(), 1000.0 * rings_.fill_target_frames / sample_rate_hz_);
  }
}

bool CoordinatorRun::reap_workers() {
  bool keep_playing = true;
  for (auto& worker : workers_) {
    if (!reap_if_exited(worker)) continue;
    // Release pairs with the mixer's acquire: it stops reading this ring.
    segment_->slot(worker.index).exited.store(1, std::memory_order_release);
    wake_always(segment_->slot(worker.index).data_ready);  // an offline render may wait on it
    if (shutting_down_) continue;
    worker.died_while_playing = true;
    const std::string what = "worker " + std::to_string(worker.index) + " (pid " +
                             std::to_string(worker.pid) + ") " +
                             describe_wait_status(worker.wait_status);
    if (offline()) {
      say_error(what);  // the render stops at its next block and says so
    } else if (options_.on_worker_failure == WorkerFailurePolicy::kRestart) {
      plan_replacement(worker);
      const auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(
          replacements_[worker.index].due - std::chrono::steady_clock::now());
      say_error(what + "; starting a new worker for its oscillators" +
                (delay.count() > 0 ? " in " + std::to_string(delay.count()) + " ms" : "") +
                " (--on-worker-failure restart)");
    } else if (options_.on_worker_failure == WorkerFailurePolicy::kAbort) {
      say_error(what + "; stopping everything (--on-worker-failure abort)");
      keep_playing = false;
    } else {
      say_error(what + "; its oscillators are silent from now on, the others play on");
    }
  }
  return keep_playing;
}

void CoordinatorRun::plan_replacement(const WorkerProcess& worker) {
  if (replacements_.empty()) replacements_.resize(workers_.size());
  Replacement& replacement = replacements_[worker.index];
  const auto now = std::chrono::steady_clock::now();
  // A worker that dies again soon after its start waits longer each time (0.1 s doubling up to
  // 5 s), so a worker that crashes at once does not spin; 10 s of life forgives.
  if (replacement.last_start.time_since_epoch().count() != 0 &&
      now - replacement.last_start < kReplacementForgiveAfter) {
    ++replacement.quick_failures;
  } else {
    replacement.quick_failures = 0;
  }
  const auto backoff =
      replacement.quick_failures == 0
          ? std::chrono::milliseconds(0)
          : std::min<std::chrono::milliseconds>(
                kReplacementFirstBackoff * (1u << std::min(replacement.quick_failures - 1, 6u)),
                kReplacementMaxBackoff);
  replacement.due = now + backoff;
  replacement.pending = true;
  WorkerSlot& slot = segment_->slot(worker.index);
  replacement.keep_stopped = slot.requested_state.load(std::memory_order_relaxed) ==
                             static_cast<std::uint32_t>(RequestedState::kStop);
  // The mixer skips an exited slot. Un-mark it with a stop request in place (release: the
  // mixer sees the request with the flag), so the mixer fades out what the ring still holds
  // and marks the slot stopped; the new worker then starts stopped and sleeps until `play`.
  slot.requested_state.store(static_cast<std::uint32_t>(RequestedState::kStop),
                             std::memory_order_release);
  slot.exited.store(0, std::memory_order_release);
}

bool CoordinatorRun::start_due_replacements(std::string& error) {
  const auto now = std::chrono::steady_clock::now();
  for (std::uint32_t w = 0; w < replacements_.size(); ++w) {
    Replacement& replacement = replacements_[w];
    if (!replacement.pending || now < replacement.due) continue;
    // Until the mixer has acted on the stop request (next callback), the old ring is in use.
    if (mixer_->phase(w) == Mixer::Phase::kPlaying) continue;
    auto worker =
        spawn_worker(worker_executable_path(), segment_name_, segment_->descriptor(), w, error);
    if (!worker) return false;
    workers_[w] = *worker;
    replacement.pending = false;
    replacement.last_start = now;
    if (!replacement.keep_stopped) {
      // Release pairs with the mixer's acquire: it resumes the slot with a fade-in, on the
      // common timeline, once the new worker delivers.
      segment_->slot(w).requested_state.store(static_cast<std::uint32_t>(RequestedState::kPlay),
                                              std::memory_order_release);
    }
    say(stdout, "synthfarm: worker " + std::to_string(w) + " restarted, pid " +
                    std::to_string(worker->pid) + "\n");
  }
  return true;
}

int CoordinatorRun::control_loop() {
  const std::uint64_t duration_frames =
      options_.duration_seconds
          ? static_cast<std::uint64_t>(std::llround(*options_.duration_seconds * sample_rate_hz_))
          : 0;
  std::uint64_t last_calls = 0;
  auto last_progress = std::chrono::steady_clock::now();
  const std::chrono::duration<double> four_periods(4.0 * block_frames_ / sample_rate_hz_);
  const std::chrono::duration<double> watchdog =
      std::max<std::chrono::duration<double>>(kOutputWatchdog, four_periods);
  while (true) {
    std::vector<pollfd> fds{{signal_fd_, POLLIN, 0}, {fifo_->fd(), POLLIN, 0}};
    if (offline_) fds.push_back({offline_->done_fd(), POLLIN, 0});
    for (const auto& worker : workers_) {
      if (!worker.reaped) fds.push_back({worker.pidfd, POLLIN, 0});
    }
    if (poll(fds.data(), fds.size(), kControlTickMs) < 0 && errno != EINTR) {
      return fail(std::string("poll failed: ") + std::strerror(errno));
    }
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info{};
      if (read(signal_fd_, &info, sizeof info) == sizeof info) {
        say(stdout, std::string("synthfarm: ") + sigabbrev_np(static_cast<int>(info.ssi_signo)) +
                        " received; stopping\n");
        return kExitOk;
      }
    }
    if (fds[1].revents & POLLIN) {
      bool quit = false;
      // Lines after a `quit` in the same read are answered (a waiting ctl learns why nothing
      // happened) but not carried out.
      fifo_->read_lines(
          [&](std::string_view line, bool too_long) { handle_control_line(line, too_long, quit); });
      if (quit) return kExitOk;
    }
    if (!reap_workers()) return kExitFailure;
    report_output_thread_once();
    redraw_terminal(std::chrono::steady_clock::now());
    if (!replacements_.empty()) {
      std::string error;
      if (!start_due_replacements(error)) return fail(error);
    }
    if (offline_) {
      if (fds[2].revents & POLLIN) {
        offline_->finish();
        if (!offline_->error().empty()) {
          return fail(
              offline_->error() + "; " + offline_->path() + " holds the first " +
              std::to_string(static_cast<double>(offline_->frames_written()) / sample_rate_hz_) +
              " s");
        }
        return kExitOk;
      }
      continue;
    }
    const std::uint64_t calls = mixer_->stats().calls.load(std::memory_order_relaxed);
    const auto now = std::chrono::steady_clock::now();
    if (calls != last_calls) {
      last_calls = calls;
      last_progress = now;
    } else if (now - last_progress > watchdog) {
      return fail(
          "the audio output stopped asking for audio for " +
          std::to_string(
              std::chrono::duration_cast<std::chrono::milliseconds>(now - last_progress).count()) +
          " ms (did the JACK or PulseAudio server stop?); exiting");
    }
    if (duration_frames &&
        mixer_->stats().frames.load(std::memory_order_relaxed) >= duration_frames) {
      return kExitOk;
    }
  }
}

void CoordinatorRun::fade_out_and_stop_output() {
  if (!output_running_) return;
  if (mixer_) {
    mixer_->master().request_fade_out();
    // The fade takes 5 ms of audio; wait for it plus two buffers, once (not a polling loop).
    const double seconds =
        static_cast<double>(mixer_->master().fade_frames() + 2 * block_frames_) / sample_rate_hz_;
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  }
  output_->stop();
  output_running_ = false;
}

void CoordinatorRun::teardown() {
  shutting_down_ = true;
  if (output_) fade_out_and_stop_output();
  waker_.reset();                      // the output no longer notifies it
  if (recorder_) recorder_->finish();  // nor feeds this
  if (offline_) {
    offline_->request_stop();
    offline_->finish();
  }
  if (segment_) {
    // Release pairs with the workers' acquire of `shutdown`.
    segment_->header().shutdown.store(1, std::memory_order_release);
    for (std::uint32_t w = 0; w < options_.workers; ++w) wake_always(segment_->slot(w).space_ready);
  }
  stop_and_reap_workers(workers_, kWorkerGrace);
  if (!segment_name_removed_) {
    std::string error;
    Segment::remove_name(segment_name_, error);
    segment_name_removed_ = true;
  }
  fifo_.reset();  // removes the FIFO
}

int CoordinatorRun::start_and_play() {
  std::string error;
  // Checked first: a run must not play for an hour and then fail to write what was asked.
  if (!options_.report_path.empty()) {
    if (!check_file_can_be_created(options_.report_path, "--report", error)) return fail(error);
    report_path_usable_ = true;
  }
  lock_ = InstanceLock::acquire(options_.name, error);
  if (!lock_) return fail(error);
  std::string notice = reclaim_stale_segments();
  if (!reclaim_stale_fifo(options_.control_path, notice, error)) return fail(error);
  if (!notice.empty()) std::fprintf(stderr, "%s", notice.c_str());

  if (!open_output(error)) return fail(error);
  if (!options_.record_path.empty()) {
    recorder_ = Recorder::open(options_.record_path, sample_rate_hz_, options_.channels, error);
    if (!recorder_) return fail(error);
  }
  if (!create_segment(error)) return fail(error);
  fifo_ = ControlFifo::create(options_.control_path, error);
  if (!fifo_) return fail(error);
  if (!spawn_workers(error) || !wait_until_attached(error)) return fail(error);
  // Every worker holds its mapping: the name can go, so a crash leaves nothing in /dev/shm.
  if (!Segment::remove_name(segment_name_, error)) return fail(error);
  segment_name_removed_ = true;

  mixer_ = std::make_unique<Mixer>(*segment_, /*limit_output=*/!offline());
  if (recorder_) mixer_->set_tap(recorder_.get());
  if (!offline()) {
    waker_ = std::make_unique<WorkerWaker>(*segment_);
    mixer_->set_waker(waker_.get());
  }
  print_startup_report();
  if (!options_.quiet && isatty(STDOUT_FILENO)) terminal_.emplace(stdout);
  if (offline()) {
    const auto total_frames =
        static_cast<std::uint64_t>(std::llround(*options_.duration_seconds * sample_rate_hz_));
    offline_->start(*mixer_, *segment_, total_frames, block_frames_);
  } else {
    wait_for_prefill();
    if (!output_->start(*mixer_, error)) return fail(error);
    output_running_ = true;
    // Locked now that the output's own thread (and its stack) exists too: everything the
    // callback touches, from the first period on.
    memory_ = lock_memory(&segment_->header(), segment_->geometry().segment_bytes);
    say(stdout, "synthfarm: " + memory_ + "\n");
  }
  return control_loop();
}

int CoordinatorRun::run() {
  int exit_code = start_and_play();
  teardown();
  if (terminal_) terminal_->clear();
  terminal_.reset();
  if (!mixer_) {
    // Nothing played, so nothing to count; a script that asked for a report still gets one.
    if (report_path_usable_) {
      std::string error;
      if (!write_text_file_atomically(
              options_.report_path,
              format_failed_start_report(options_, plan_, failure_, exit_code), error)) {
        say_error("--report: " + error);
      }
    }
    return exit_code;
  }
  say(stdout, format_status("final"));
  if (recorder_) {
    std::printf("synthfarm: recorded %" PRIu64 " frames (%.3f s) to %s, %" PRIu64
                " frames dropped\n",
                recorder_->frames_written(),
                static_cast<double>(recorder_->frames_written()) / sample_rate_hz_,
                recorder_->path().c_str(), recorder_->frames_dropped());
    if (!recorder_->error().empty()) {
      say_error("--record: " + recorder_->error());
      exit_code = kExitFailure;
    } else if (recorder_->frames_dropped() > 0) {
      say_error("--record: " + std::to_string(recorder_->frames_dropped()) +
                " frames could not be written in time and are missing from " + recorder_->path() +
                " (is the disk slow or busy?)");
    }
  }
  if (offline_ && exit_code == kExitOk) {
    std::printf("synthfarm: wrote %" PRIu64 " frames (%.3f s) to %s\n", offline_->frames_written(),
                static_cast<double>(offline_->frames_written()) / sample_rate_hz_,
                offline_->path().c_str());
    if (!offline_->error().empty()) exit_code = fail(offline_->error());
  }
  if (!options_.report_path.empty()) {
    std::string error;
    if (write_report(options_.report_path, "exit", exit_code, error)) {
      std::printf("synthfarm: report written to %s\n", options_.report_path.c_str());
    } else {
      exit_code = fail("--report: " + error);
    }
  }
  std::fflush(stdout);
  return exit_code;
}

}  // namespace

int run_coordinator(const Options& options, const OscillatorPlan& plan) {
  // Signals arrive through a signalfd read by the control thread; every other thread
  // (RtAudio's, the clock, the file writer) inherits this mask and never sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  const int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signal_fd < 0) {
    print_error(std::string("signalfd failed: ") + std::strerror(errno));
    return kExitFailure;
  }
  int exit_code = kExitFailure;
  {
    CoordinatorRun run(options, plan, signal_fd);
    exit_code = run.run();
  }
  close(signal_fd);
  return exit_code;
}

}  // namespace synthfarm
