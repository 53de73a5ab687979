#pragma once
// Where one run's mix goes, live or offline, behind one face: a live output (synthfarm's JACK
// client, an RtAudio device or the null clock, output/audio_output.h) that calls the mixer in real
// time, or an offline render (output/offline_render.h) that writes --duration of it to a file as
// fast as the workers deliver. The sequencer starts and stops either without asking which it is.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "coordinator/mix/mixer.h"
#include "coordinator/output/audio_output.h"
#include "coordinator/output/offline_render.h"
#include "coordinator/plan/cli_options.h"

namespace synthfarm {

class RunOutput {
 public:
  // Thread: main, before anything plays. Opens, without starting, what `options` ask for:
  // --output's file, or --audio and --device. `notice` gets a line for stderr when the null
  // clock stands in for a missing server. nullptr with `error` (what failed, what to do).
  static std::unique_ptr<RunOutput> open(const Options& options, std::string& error,
                                         std::string& notice);
  // Thread: control. Stops (stop()), so that nothing calls the mixer after the output is gone.
  ~RunOutput();
  RunOutput(const RunOutput&) = delete;
  RunOutput& operator=(const RunOutput&) = delete;

  // Thread: control, for the accessors below; they only read what open() settled.
  bool offline() const noexcept { return render_ != nullptr; }
  // What the output granted, which may differ from what was asked (JACK imposes its period).
  std::uint32_t sample_rate_hz() const noexcept { return sample_rate_hz_; }
  std::uint32_t block_frames() const noexcept { return block_frames_; }
  // "JACK, 48000 Hz, 256 frames per buffer", or "offline file PATH": for the lines and report.
  const std::string& description() const noexcept { return description_; }

  // Thread: control. Starts calling mixer.mix(): a live output from its own thread at once, an
  // offline render from its file thread until `total_frames`. `mixer` and `segment` must
  // outlive stop(). False with `error` when a live output cannot start.
  bool start(Mixer& mixer, const Segment& segment, std::uint64_t total_frames, std::string& error);

  // Offline: an eventfd that becomes readable when the file is done; -1 for a live output.
  int done_fd() const noexcept { return render_ ? render_->done_fd() : -1; }
  // Thread: control, offline, after done_fd() fired. Joins the file thread. "" when the file
  // is complete, else what went wrong and how much the file holds.
  std::string finish_render();

  // How many buffers the output must ask for after the one that completed the fade-out before
  // the stream is stopped: the most any output queues ahead (PulseAudio: 4), so that the fade
  // has been played by the device, not only computed.
  static constexpr std::uint64_t kBuffersAfterFadeOut = 4;
  // How long, beyond the fade itself, the stop waits for that (an output that no longer calls
  // back, or calls back very late, is stopped anyway).
  static constexpr std::chrono::milliseconds kFadeOutDeadline{500};

  // What the live fade-out came to.
  struct FadeOut {
    bool faded = false;                    // the master reached silence
    std::uint64_t buffers_after_fade = 0;  // buffers the output asked for after that
    bool interrupted = false;              // a signal on interrupt_fd cut the wait short
  };

  // Thread: control. A live output fades the master out and waits until the fade has been
  // played (kBuffersAfterFadeOut buffers after it, at most the fade and kFadeOutDeadline; a
  // readable `interrupt_fd`, the signalfd, ends the wait at once), then stops; an offline render
  // stops at its next block and is joined. `output_gone`: the output can no longer play (its
  // server went away, or it stopped calling back): nothing would play the fade, so it is not
  // waited for and fade_out() stays nullopt. Blocks. Idempotent. Returns once nothing calls the
  // mixer any more.
  void stop(int interrupt_fd = -1, bool output_gone = false);

  // Thread: control, after stop(). How the live fade-out went; nullopt offline or never started.
  const std::optional<FadeOut>& fade_out() const noexcept { return fade_; }

  // Thread: control; poll it. Does not block. A live output that can no longer play (its server
  // went away, or imposed a buffer it cannot follow) says why, in one line; "" while it plays,
  // and always offline. See AudioOutput::failure.
  std::string failure() const { return live_ ? live_->failure() : std::string(); }
  // Thread: control. Xruns the live output's server reported (JACK); 0 offline and elsewhere.
  std::uint64_t server_xruns() const noexcept { return live_ ? live_->server_xruns() : 0; }
  // Thread: control. The live output thread's real-time priority to be, nullopt when it will not
  // be real-time and offline (AudioOutput::audio_thread_priority).
  std::optional<int> audio_thread_priority() const {
    return live_ ? live_->audio_thread_priority() : std::nullopt;
  }

  // Thread: control, after stop(). Offline: the render, for its closing line (frames, path, error);
  // nullptr live.
  const OfflineRender* render() const noexcept { return render_.get(); }

 private:
  RunOutput() = default;

  std::unique_ptr<AudioOutput> live_;
  std::unique_ptr<OfflineRender> render_;
  std::uint32_t sample_rate_hz_ = 0;
  std::uint32_t block_frames_ = 0;
  std::string description_;
  // Requests the master's fade-out and waits as stop() says.
  FadeOut play_fade_out(int interrupt_fd);

  Mixer* mixer_ = nullptr;  // set by start(): a live output's fade goes through its master
  bool live_running_ = false;
  std::optional<FadeOut> fade_;
};

}  // namespace synthfarm
