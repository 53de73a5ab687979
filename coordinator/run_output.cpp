#include "coordinator/run_output.h"

#include <poll.h>

#include <algorithm>
#include <chrono>

namespace synthfarm {

std::unique_ptr<RunOutput> RunOutput::open(const Options& options, std::string& error,
                                           std::string& notice) {
  std::unique_ptr<RunOutput> output(new RunOutput);
  if (options.offline()) {
    output->render_ =
        OfflineRender::open(options.output_path, options.sample_rate_hz, options.channels, error);
    if (!output->render_) return nullptr;
    output->sample_rate_hz_ = options.sample_rate_hz;
    output->block_frames_ = options.block_frames;
    output->description_ = "offline file " + options.output_path;
    return output;
  }
  output->live_ = open_audio_output(options, error, notice);
  if (!output->live_) return nullptr;
  output->sample_rate_hz_ = output->live_->sample_rate_hz();
  output->block_frames_ = output->live_->buffer_frames();
  output->description_ = output->live_->description();
  return output;
}

RunOutput::~RunOutput() {
  stop();
}

bool RunOutput::start(Mixer& mixer, const Segment& segment, std::uint64_t total_frames,
                      std::string& error) {
  mixer_ = &mixer;
  if (render_) {
    render_->start(mixer, segment, total_frames, block_frames_);
    return true;
  }
  live_running_ = live_->start(mixer, error);
  return live_running_;
}

std::string RunOutput::finish_render() {
  render_->finish();
  if (render_->error().empty()) return {};
  return render_->error() + "; " + render_->path() + " holds the first " +
         std::to_string(static_cast<double>(render_->frames_written()) / sample_rate_hz_) + " s";
}

void RunOutput::stop(int interrupt_fd, bool output_gone) {
  if (render_) {
    render_->request_stop();
    render_->finish();  // idempotent: joins once
    return;
  }
  if (!live_running_) return;
  if (!output_gone) fade_ = play_fade_out(interrupt_fd);
  live_->stop();
  live_running_ = false;
}

RunOutput::FadeOut RunOutput::play_fade_out(int interrupt_fd) {
  MasterStage& master = mixer_->master();
  const std::atomic<std::uint64_t>& calls = mixer_->stats().calls;
  master.request_fade_out();
  const auto buffer =
      std::chrono::microseconds(std::uint64_t{1'000'000} * block_frames_ / sample_rate_hz_ + 1);
  const auto fade = std::chrono::microseconds(
      std::uint64_t{1'000'000} * master.fade_frames() / sample_rate_hz_ + 1);
  const auto deadline = std::chrono::steady_clock::now() + fade + kFadeOutDeadline;
  FadeOut outcome;
  std::optional<std::uint64_t> faded_at;  // the call count once the master reached silence
  while (true) {
    // Acquire in faded_out() pairs with the master's release; the count is only compared.
    if (!faded_at && master.faded_out()) faded_at = calls.load(std::memory_order_relaxed);
    if (faded_at) {
      outcome.buffers_after_fade = calls.load(std::memory_order_relaxed) - *faded_at;
      if (outcome.buffers_after_fade >= kBuffersAfterFadeOut) break;
    }
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) break;
    // Sleep a buffer (the output's own pace), or less to the deadline; a second signal ends
    // the wait at once.
    const auto step = std::chrono::ceil<std::chrono::milliseconds>(
        std::min<std::chrono::steady_clock::duration>(buffer, left));
    pollfd interrupt{interrupt_fd, POLLIN, 0};
    if (poll(&interrupt, 1, static_cast<int>(step.count())) > 0) {
      outcome.interrupted = true;
      break;
    }
  }
  outcome.faded = faded_at.has_value();
  return outcome;
}

}  // namespace synthfarm
