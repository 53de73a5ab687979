#include "coordinator/run_output.h"

#include <chrono>
#include <thread>

namespace synthfarm {

std::unique_ptr<RunOutput> RunOutput::open(const Options& options, std::string& error,
                                           std::string& notice) {
  std::unique_ptr<RunOutput> output(new RunOutput);
  if (!options.output_path.empty()) {
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

void RunOutput::stop() {
  if (render_) {
    render_->request_stop();
    render_->finish();  // idempotent: joins once
    return;
  }
  if (!live_running_) return;
  mixer_->master().request_fade_out();
  // The fade takes 5 ms of audio; wait for it plus two buffers, once (not a polling loop).
  const double seconds =
      static_cast<double>(mixer_->master().fade_frames() + 2 * block_frames_) / sample_rate_hz_;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  live_->stop();
  live_running_ = false;
}

}  // namespace synthfarm
