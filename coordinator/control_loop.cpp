#include "coordinator/control_loop.h"

#include <poll.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "shared/realtime_setup.h"

namespace synthfarm {
namespace {

ControlLoop::End failed(std::string failure) {
  return {kExitFailure, std::move(failure)};
}

ControlLoop::End output_gone(std::string failure) {
  return {kExitFailure, std::move(failure), true};
}

}  // namespace

struct ControlLoop::Readable {
  bool signal = false;
  bool fifo = false;
  bool osc = false;
  bool render_done = false;
};

ControlLoop::ControlLoop(const Sources& sources, const Length& length)
    : sources_(sources),
      length_(length),
      watchdog_(sources.output.block_frames(), sources.output.sample_rate_hz(),
                std::chrono::steady_clock::now()) {}

ControlLoop::End ControlLoop::run() {
  while (true) {
    if (auto end = tick()) return *end;
  }
}

std::optional<ControlLoop::End> ControlLoop::tick() {
  Readable readable;
  std::string error;
  if (!wait(readable, error)) return failed(error);
  if (const auto signal = readable.signal ? sources_.signals.take() : std::nullopt) {
    sources_.console.out("synthfarm: " + *signal + " received; stopping\n");
    return End{};
  }
  if (serve_commands(readable)) return End{};
  if (auto end = reap_workers()) return end;
  report_output_thread_once();
  redraw();
  if (auto end = start_replacements()) return end;
  return offline() ? check_render(readable) : check_live_output();
}

bool ControlLoop::wait(Readable& readable, std::string& error) {
  std::vector<pollfd> fds{{sources_.signals.fd(), POLLIN, 0}, {sources_.server.fd(), POLLIN, 0}};
  const std::size_t done_at = fds.size();
  if (offline()) fds.push_back({sources_.output.done_fd(), POLLIN, 0});
  const std::size_t osc_at = fds.size();
  if (sources_.osc) fds.push_back({sources_.osc->fd(), POLLIN, 0});
  sources_.supervisor.add_poll_fds(fds);
  sources_.server.add_poll_fds(fds);  // replies waiting for room
  // Lines left from the last serve() are not seen by poll: look again at once.
  const int timeout_ms = sources_.server.has_unread_lines() ? 0 : kTickMs;
  if (poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) {
    error = std::string("poll failed: ") + std::strerror(errno);
    return false;
  }
  const auto in = [&fds](std::size_t at) { return (fds[at].revents & POLLIN) != 0; };
  readable.signal = in(0);
  readable.fifo = in(1);
  readable.render_done = offline() && in(done_at);
  readable.osc = sources_.osc && in(osc_at);
  return true;
}

bool ControlLoop::serve_commands(const Readable& readable) {
  sources_.server.send_pending_replies(std::chrono::steady_clock::now());
  if ((readable.fifo || sources_.server.has_unread_lines()) && sources_.server.serve()) {
    return true;
  }
  if (const auto report = sources_.commands.take_finished_report()) {
    sources_.console.command_result(*report);
  }
  return readable.osc && sources_.osc->serve();
}

std::optional<ControlLoop::End> ControlLoop::reap_workers() {
  std::vector<std::string> messages;
  const bool keep_playing = sources_.supervisor.reap_exited(messages);
  for (const std::string& message : messages) sources_.console.error(message);
  if (!keep_playing) return End{kExitFailure, std::nullopt};  // each death was said above
  return std::nullopt;
}

void ControlLoop::report_output_thread_once() {
  if (output_thread_reported_ || offline()) return;
  const auto thread = sources_.mixer.output_thread();
  if (!thread) return;
  output_thread_reported_ = true;
  sources_.mixer.output_scheduling();  // kept for status and the report, while the thread lives
  sources_.facts.realtime_scheduling = describe_thread_scheduling(*thread);
  sources_.console.out("synthfarm: audio thread: " + sources_.facts.realtime_scheduling + "\n");
}

void ControlLoop::redraw() {
  const double sample_rate_hz = sources_.output.sample_rate_hz();
  sources_.console.redraw(std::chrono::steady_clock::now(), [&](TerminalStatus& terminal) {
    if (offline()) {
      terminal.update_progress(
          static_cast<double>(sources_.mixer.stats().frames.load(std::memory_order_relaxed)) /
              sample_rate_hz,
          *length_.duration_seconds);
    } else {
      terminal.update_live(sources_.commands.statistics(),
                           1000.0 * length_.fill_target_frames / sample_rate_hz);
    }
  });
}

std::optional<ControlLoop::End> ControlLoop::start_replacements() {
  const auto mixer_stopped_slot = [this](std::uint32_t w) {
    return sources_.mixer.phase(w) != Mixer::Phase::kPlaying;
  };
  std::vector<std::string> notices;
  std::string error;
  const bool started =
      sources_.supervisor.start_due_replacements(mixer_stopped_slot, notices, error);
  for (const std::string& notice : notices) sources_.console.out("synthfarm: " + notice + "\n");
  if (!started) return failed(error);
  return std::nullopt;
}

std::optional<ControlLoop::End> ControlLoop::check_render(const Readable& readable) {
  if (!readable.render_done) return std::nullopt;
  const std::string render_error = sources_.output.finish_render();
  if (!render_error.empty()) return failed(render_error);
  return End{};
}

std::optional<ControlLoop::End> ControlLoop::check_live_output() {
  // The output's own word first (JACK's shutdown, a buffer it cannot follow); the watchdog
  // catches an output that stops calling back without one.
  if (const std::string failure = sources_.output.failure(); !failure.empty()) {
    return output_gone(failure + "; exiting");
  }
  const auto calls = sources_.mixer.stats().calls.load(std::memory_order_relaxed);
  if (const auto silent = watchdog_.silent_for(calls, std::chrono::steady_clock::now())) {
    return output_gone("the audio output stopped asking for audio for " +
                       std::to_string(silent->count()) +
                       " ms (did the JACK or PulseAudio server stop?); exiting");
  }
  if (length_.duration_frames &&
      sources_.mixer.stats().frames.load(std::memory_order_relaxed) >= *length_.duration_frames) {
    return End{};
  }
  return std::nullopt;
}

}  // namespace synthfarm
