#include "coordinator/coordinator.h"

#include <poll.h>
#include <sys/signalfd.h>
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
#include <random>
#include <thread>

#include "coordinator/audio_output.h"
#include "coordinator/control_command.h"
#include "coordinator/control_fifo.h"
#include "coordinator/frequency_plan.h"
#include "coordinator/instance_lock.h"
#include "coordinator/mixer.h"
#include "coordinator/offline_render.h"
#include "coordinator/ring_plan.h"
#include "coordinator/worker_launcher.h"
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
  bool offline() const { return !options_.output_path.empty(); }
  int fail(const std::string& message) {
    print_error(message);
    return kExitFailure;
  }
  bool open_output(std::string& error);
  bool create_segment(std::string& error);
  bool spawn_workers(std::string& error);
  bool wait_until_attached(std::string& error);
  void wait_for_prefill();
  void print_startup_report() const;
  int control_loop();
  void handle_control_line(std::string_view line, bool too_long, bool& quit);
  void apply(const ControlCommand& command);
  // Reaps exited workers and reports them. Returns false when the failure policy says the run
  // must end (--on-worker-failure abort).
  bool reap_workers();
  // --on-worker-failure restart: asks the mixer to stop the dead worker's slot now, and plans
  // its replacement; start_due_replacements() starts it once the mixer has stopped the slot.
  void plan_replacement(const WorkerProcess& worker);
  bool start_due_replacements(std::string& error);
  void print_status(const char* label) const;
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

void CoordinatorRun::print_startup_report() const {
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
  std::printf("synthfarm: control FIFO %s (%s)\n", fifo_->path().c_str(), kControlHelp);
  for (const auto& worker : workers_) {
    const WorkerGroup& group = groups_[worker.index];
    std::printf("synthfarm: worker %u pid %d plays oscillators %" PRIu64 "-%" PRIu64 "\n",
                worker.index, worker.pid, group.first_oscillator,
                group.first_oscillator + group.oscillator_count - 1);
  }
  std::fflush(stdout);
}

void CoordinatorRun::print_status(const char* label) const {
  const MixerStats& stats = mixer_->stats();
  const std::uint64_t calls = stats.calls.load(std::memory_order_relaxed);
  const std::uint64_t frames = stats.frames.load(std::memory_order_relaxed);
  const double period_us = 1e6 * block_frames_ / sample_rate_hz_;
  const double average_us =
      calls ? stats.call_ns_total.load(std::memory_order_relaxed) / 1e3 / calls : 0.0;
  std::printf("%s: seconds=%.3f timeline_frames=%" PRIu64 " callbacks=%" PRIu64
              " callback_avg_us=%.1f callback_max_us=%.1f period_us=%.1f device_underflows=%" PRIu64
              " nonfinite_samples=%" PRIu64 " limited_samples=%" PRIu64 "\n",
              label, static_cast<double>(frames) / sample_rate_hz_, frames, calls, average_us,
              stats.call_ns_max.load(std::memory_order_relaxed) / 1e3, period_us,
              stats.device_underflows.load(std::memory_order_relaxed),
              mixer_->master().nonfinite_samples(), mixer_->master().limited_samples());
  for (const auto& worker : workers_) {
    const WorkerSlot& slot = segment_->slot(worker.index);
    const std::uint64_t blocks = slot.render_blocks.load(std::memory_order_relaxed);
    const double load = blocks ? 100.0 * slot.render_ns_total.load(std::memory_order_relaxed) /
                                     (blocks * period_us * 1e3)
                               : 0.0;
    const char* state = !worker.reaped   ? phase_name(mixer_->phase(worker.index))
                        : shutting_down_ ? "exited"
                                         : "dead";
    std::printf("%s worker %u: state=%s pid=%d oscillators=%u rendered_frames=%" PRIu64
                " underrun_frames=%" PRIu64 " late_blocks=%" PRIu64 " discarded_frames=%" PRIu64
                " render_load=%.1f%%\n",
                label, worker.index, state, worker.pid, groups_[worker.index].oscillator_count,
                slot.write_pos.load(std::memory_order_relaxed),
                slot.underrun_frames.load(std::memory_order_relaxed),
                slot.late_blocks.load(std::memory_order_relaxed),
                slot.discarded_frames.load(std::memory_order_relaxed), load);
  }
  std::fflush(stdout);
}

void CoordinatorRun::apply(const ControlCommand& command) {
  switch (command.verb) {
    case ControlCommand::Verb::kStatus:
      print_status("status");
      return;
    case ControlCommand::Verb::kQuit:
      return;
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
      std::printf("control: %s %s\n", request == RequestedState::kStop ? "stop" : "play",
                  command.worker ? std::to_string(*command.worker).c_str() : "all");
      std::fflush(stdout);
      return;
    }
  }
}

void CoordinatorRun::handle_control_line(std::string_view line, bool too_long, bool& quit) {
  if (too_long) {
    print_error("control: a line longer than " + std::to_string(ControlFifo::kMaxLineBytes) +
                " bytes was ignored");
    return;
  }
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;  // blank: ignore
  auto parsed = parse_control_line(line, options_.workers);
  if (auto* message = std::get_if<std::string>(&parsed)) {
    print_error(*message + "; nothing changed");
    return;
  }
  const auto& command = std::get<ControlCommand>(parsed);
  if (command.verb == ControlCommand::Verb::kQuit) {
    std::printf("control: quit\n");
    std::fflush(stdout);
    quit = true;
    return;
  }
  apply(command);
}

bool CoordinatorRun::reap_workers() {
  bool keep_playing = true;
  for (auto& worker : workers_) {
    if (!reap_if_exited(worker)) continue;
    // Release pairs with the mixer's acquire: it stops reading this ring.
    segment_->slot(worker.index).exited.store(1, std::memory_order_release);
    wake_always(segment_->slot(worker.index).data_ready);  // an offline render may wait on it
    if (shutting_down_) continue;
    const std::string what = "worker " + std::to_string(worker.index) + " (pid " +
                             std::to_string(worker.pid) + ") " +
                             describe_wait_status(worker.wait_status);
    if (offline()) {
      print_error(what);  // the render stops at its next block and says so
    } else if (options_.on_worker_failure == WorkerFailurePolicy::kRestart) {
      plan_replacement(worker);
      const auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(
          replacements_[worker.index].due - std::chrono::steady_clock::now());
      print_error(what + "; starting a new worker for its oscillators" +
                  (delay.count() > 0 ? " in " + std::to_string(delay.count()) + " ms" : "") +
                  " (--on-worker-failure restart)");
    } else if (options_.on_worker_failure == WorkerFailurePolicy::kAbort) {
      print_error(what + "; stopping everything (--on-worker-failure abort)");
      keep_playing = false;
    } else {
      print_error(what + "; its oscillators are silent from now on, the others play on");
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
    std::printf("synthfarm: worker %u restarted, pid %d\n", w, worker->pid);
    std::fflush(stdout);
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
        std::printf("synthfarm: %s received; stopping\n",
                    sigabbrev_np(static_cast<int>(info.ssi_signo)));
        std::fflush(stdout);
        return kExitOk;
      }
    }
    if (fds[1].revents & POLLIN) {
      bool quit = false;
      fifo_->read_lines([&](std::string_view line, bool too_long) {
        if (!quit) handle_control_line(line, too_long, quit);
      });
      if (quit) return kExitOk;
    }
    if (!reap_workers()) return kExitFailure;
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

int CoordinatorRun::run() {
  std::string error;
  lock_ = InstanceLock::acquire(options_.name, error);
  if (!lock_) return fail(error);
  std::string notice = reclaim_stale_segments();
  if (!reclaim_stale_fifo(options_.control_path, notice, error)) return fail(error);
  if (!notice.empty()) std::fprintf(stderr, "%s", notice.c_str());

  if (!open_output(error)) return fail(error);
  if (!create_segment(error)) return fail(error);
  fifo_ = ControlFifo::create(options_.control_path, error);
  if (!fifo_) return fail(error);
  if (!spawn_workers(error) || !wait_until_attached(error)) return fail(error);
  // Every worker holds its mapping: the name can go, so a crash leaves nothing in /dev/shm.
  if (!Segment::remove_name(segment_name_, error)) return fail(error);
  segment_name_removed_ = true;

  mixer_ = std::make_unique<Mixer>(*segment_, /*limit_output=*/!offline());
  print_startup_report();
  if (offline()) {
    const auto total_frames =
        static_cast<std::uint64_t>(std::llround(*options_.duration_seconds * sample_rate_hz_));
    offline_->start(*mixer_, *segment_, total_frames, block_frames_);
  } else {
    wait_for_prefill();
    if (!output_->start(*mixer_, error)) return fail(error);
    output_running_ = true;
  }
  const int exit_code = control_loop();
  teardown();
  print_status("final");
  if (offline_ && exit_code == kExitOk) {
    std::printf("synthfarm: wrote %" PRIu64 " frames (%.3f s) to %s\n", offline_->frames_written(),
                static_cast<double>(offline_->frames_written()) / sample_rate_hz_,
                offline_->path().c_str());
    if (!offline_->error().empty()) return fail(offline_->error());
  }
  std::fflush(stdout);
  return exit_code;
}

}  // namespace

std::optional<OscillatorPlan> plan_oscillators(const Options& options, std::string& error) {
  OscillatorPlan plan;
  if (!options.freqs_file.empty()) {
    auto frequencies = read_frequency_file(options.freqs_file, error);
    if (!frequencies) return std::nullopt;
    if (frequencies->size() < options.workers) {
      error = "--freqs-file: '" + options.freqs_file + "' holds " +
              std::to_string(frequencies->size()) + " frequencies, fewer than the " +
              std::to_string(options.workers) + " workers; lower --workers";
      return std::nullopt;
    }
    plan.frequencies_hz = std::move(*frequencies);
    return plan;
  }
  plan.seed = options.seed ? *options.seed : std::random_device{}();
  plan.frequencies_hz =
      draw_frequencies_hz(*plan.seed, std::uint64_t{options.workers} * options.sines_per_worker,
                          options.freq_min_hz, options.freq_max_hz);
  return plan;
}

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
