// The one file that knows RtAudio (5.2 throws RtAudioError; keep its types here), which plays
// on PulseAudio and ALSA; and the factory that picks an output, JACK's included.
#include <RtAudio.h>
#include <alsa/asoundlib.h>

#include <optional>

#include "coordinator/output/audio_output.h"
#include "coordinator/output/jack_output.h"

namespace synthfarm {
namespace {

// libasound prints to stderr while RtAudio probes for devices; synthfarm reports what failed
// itself, in one line that says what to do.
void silence_alsa(const char*, int, const char*, int, const char*, ...) {}

void quiet_audio_libraries() {
  snd_lib_error_set_handler(silence_alsa);
}

RtAudio::Api to_rtaudio_api(AudioApi api) {
  switch (api) {
    case AudioApi::kPulse:
      return RtAudio::LINUX_PULSE;
    case AudioApi::kAlsa:
      return RtAudio::LINUX_ALSA;
    default:
      return RtAudio::UNSPECIFIED;
  }
}

// RtAudio's callback thread priority: below JACK's server driver, above JACK's clients.
constexpr int kRtAudioPriority = 80;

class RtAudioOutput final : public AudioOutput {
 public:
  RtAudioOutput(AudioApi api, std::unique_ptr<RtAudio> audio, std::string device_name,
                std::uint32_t sample_rate_hz, std::uint32_t buffer_frames)
      : api_(api),
        audio_(std::move(audio)),
        device_name_(std::move(device_name)),
        sample_rate_hz_(sample_rate_hz),
        buffer_frames_(buffer_frames) {}

  ~RtAudioOutput() override {
    stop();
    try {
      if (audio_->isStreamOpen()) audio_->closeStream();
    } catch (const RtAudioError&) {
    }
  }

  std::string description() const override {
    return std::string(audio_api_label(api_)) + " device '" + device_name_ + "', " +
           std::to_string(sample_rate_hz_) + " Hz, " + std::to_string(buffer_frames_) +
           " frames per buffer";
  }
  std::uint32_t sample_rate_hz() const override { return sample_rate_hz_; }
  std::uint32_t buffer_frames() const override { return buffer_frames_; }
  // What open_audio_output asks RtAudio for (RTAUDIO_SCHEDULE_REALTIME).
  std::optional<int> audio_thread_priority() const override { return kRtAudioPriority; }

  // Throws RtAudioError. The stream calls back into this object, which must not move.
  void open_stream(RtAudio::StreamParameters parameters, RtAudio::StreamOptions options) {
    unsigned int granted_frames = buffer_frames_;
    audio_->openStream(&parameters, nullptr, RTAUDIO_FLOAT32, sample_rate_hz_, &granted_frames,
                       &RtAudioOutput::callback, this, &options, &RtAudioOutput::ignore_error);
    buffer_frames_ = granted_frames;  // the device may grant another size
  }

  bool start(Mixer& mixer, std::string& error) override {
    mixer_ = &mixer;
    try {
      audio_->startStream();
      return true;
    } catch (const RtAudioError& e) {
      error =
          std::string("cannot start the ") + audio_api_label(api_) + " stream: " + e.getMessage();
      return false;
    }
  }

  void stop() noexcept override {
    try {
      if (audio_->isStreamRunning()) audio_->stopStream();
    } catch (const RtAudioError&) {
    }
  }

  // Thread: the device's audio callback. RT-safe: only the mixer, which never blocks.
  static int callback(void* output, void*, unsigned int frames, double, RtAudioStreamStatus status,
                      void* user) noexcept {
    auto* self = static_cast<RtAudioOutput*>(user);
    if (status & RTAUDIO_OUTPUT_UNDERFLOW) self->mixer_->count_device_underflow();
    self->mixer_->mix(static_cast<float*>(output), frames);
    return 0;
  }

  // RtAudio 5.2's error callback carries no user pointer; errors reach the control thread
  // through the callback counter watchdog instead, so this only keeps RtAudio from printing.
  static void ignore_error(RtAudioError::Type, const std::string&) {}

 private:
  AudioApi api_;
  std::unique_ptr<RtAudio> audio_;
  std::string device_name_;
  std::uint32_t sample_rate_hz_;
  std::uint32_t buffer_frames_;
  Mixer* mixer_ = nullptr;
};

}  // namespace

std::vector<AudioDevice> probe_audio_devices(AudioApi api) {
  if (api == AudioApi::kJack) return probe_jack_devices();
  quiet_audio_libraries();
  std::vector<AudioDevice> devices;
  try {
    RtAudio audio(to_rtaudio_api(api));
    audio.showWarnings(false);
    if (audio.getCurrentApi() != to_rtaudio_api(api)) return devices;
    const unsigned int count = audio.getDeviceCount();
    for (unsigned int index = 0; index < count; ++index) {
      const RtAudio::DeviceInfo info = audio.getDeviceInfo(index);
      if (!info.probed) continue;  // gone since it was counted, or it has no channels
      devices.push_back({api, index, info.name, info.outputChannels, info.inputChannels,
                         info.sampleRates, info.preferredSampleRate, info.isDefaultOutput});
    }
  } catch (const RtAudioError&) {
    // A server that went away while we asked: it has no devices to offer.
  }
  return devices;
}

std::unique_ptr<AudioOutput> open_rtaudio_output(
    AudioApi api, const std::optional<AudioDevice>& device, std::uint32_t sample_rate_hz,
    std::uint32_t buffer_frames, std::uint32_t channels, const std::string& client_name,
    std::string& error) {
  quiet_audio_libraries();
  const std::string label = audio_api_label(api);
  if (to_rtaudio_api(api) == RtAudio::UNSPECIFIED) {
    error = label + " does not play through RtAudio";
    return nullptr;
  }
  try {
    auto audio = std::make_unique<RtAudio>(to_rtaudio_api(api));
    audio->showWarnings(false);
    quiet_audio_libraries();
    if (audio->getCurrentApi() != to_rtaudio_api(api)) {
      error = label + " support is not compiled into this RtAudio";
      return nullptr;
    }
    if (audio->getDeviceCount() == 0) {
      error = label + ": no output device found (" + advice_for(api).question + ")";
      return nullptr;
    }
    const unsigned int index = device ? device->index : audio->getDefaultOutputDevice();
    const RtAudio::DeviceInfo info = audio->getDeviceInfo(index);
    // Devices come and go: the number chosen a moment ago may now be another device.
    if (device && info.name != device->name) {
      error = label + " device " + std::to_string(index) + " is now '" + info.name + "', not '" +
              device->name + "' (devices came or went); name the device with --device NAME";
      return nullptr;
    }
    if (info.outputChannels < channels) {
      error = label + " device '" + info.name + "' has " + std::to_string(info.outputChannels) +
              " output channels; use --channels " + std::to_string(info.outputChannels) +
              " or fewer";
      return nullptr;
    }
    RtAudio::StreamParameters parameters;
    parameters.deviceId = index;
    parameters.nChannels = channels;
    RtAudio::StreamOptions stream_options;
    stream_options.streamName = client_name;
    // RtAudio starts its callback thread SCHED_RR at this priority, and without the privilege
    // (RLIMIT_RTPRIO, rtkit) starts it unprivileged instead.
    stream_options.flags = RTAUDIO_SCHEDULE_REALTIME;
    stream_options.priority = kRtAudioPriority;
    // PulseAudio delivers in bursts with two buffers (docs/TESTING.md).
    if (api == AudioApi::kPulse) stream_options.numberOfBuffers = 4;
    auto output = std::make_unique<RtAudioOutput>(api, std::move(audio), info.name, sample_rate_hz,
                                                  buffer_frames);
    output->open_stream(parameters, stream_options);
    if (output->buffer_frames() == 0 || output->buffer_frames() > kMaxBlockFrames) {
      error = label + " granted " + std::to_string(output->buffer_frames()) +
              " frames per buffer; synthfarm supports 1 to " + std::to_string(kMaxBlockFrames);
      return nullptr;
    }
    return output;
  } catch (const RtAudioError& e) {
    error = "cannot open " + label + " output: " + e.getMessage() + " (" +
            advice_for(api).question + ")";
    return nullptr;
  }
}

namespace {

// One API's output: JACK through synthfarm's own client, the others through RtAudio.
std::unique_ptr<AudioOutput> open_api_output(AudioApi api, const std::optional<AudioDevice>& device,
                                             const Options& options, std::string& error) {
  const std::string client_name = jack_client_name_for(options.name);
  if (api == AudioApi::kJack) {
    JackOutputSettings settings;
    settings.client_name = client_name;
    settings.channels = options.channels;
    settings.sample_rate_hz = options.sample_rate_hz;
    settings.connections = options.jack_connections;
    settings.device = device;
    settings.render_ahead_buffers = options.buffers;
    return open_jack_output(settings, error);
  }
  return open_rtaudio_output(api, device, options.sample_rate_hz, options.block_frames,
                             options.channels, client_name, error);
}

// --device under --audio auto (or one API): the first API whose devices match. No fallback to
// the null clock: the user asked for a device.
std::unique_ptr<AudioOutput> open_chosen_device(const Options& options, std::string& error) {
  std::vector<AudioApi> apis(std::begin(kDeviceApis), std::end(kDeviceApis));
  if (options.audio != AudioApi::kAuto) apis = {options.audio};
  std::string reasons;
  for (const AudioApi api : apis) {
    const DeviceMatch match = match_device(probe_audio_devices(api), api, options.device);
    if (match.kind == DeviceMatch::Kind::kFound) {
      return open_api_output(api, match.device, options, error);
    }
    if (match.kind == DeviceMatch::Kind::kSeveral || apis.size() == 1) {
      error = "--device " + options.device + ": " + match.error + "; see synthfarm " +
              "--list-devices --audio " + audio_api_name(api);
      return nullptr;
    }
    if (!reasons.empty()) reasons += "; ";
    reasons += match.available;
  }
  error = "--device " + options.device + ": no audio device matches (" + reasons +
          "); see synthfarm --list-devices";
  return nullptr;
}

}  // namespace

std::unique_ptr<AudioOutput> open_audio_output(const Options& options, std::string& error,
                                               std::string& notice) {
  if (options.audio == AudioApi::kNull) {
    return make_null_clock_output(options.sample_rate_hz, options.block_frames, options.channels);
  }
  if (!options.device.empty()) return open_chosen_device(options, error);
  if (options.audio != AudioApi::kAuto) {
    return open_api_output(options.audio, std::nullopt, options, error);
  }
  std::string reasons;
  for (const AudioApi api : kDeviceApis) {
    std::string why;
    auto output = open_api_output(api, std::nullopt, options, why);
    if (output) return output;
    reasons += (reasons.empty() ? "" : "; ") + why;
  }
  notice = "synthfarm: no audio device could be opened (" + reasons +
           "); playing on the null clock instead (choose one with --audio jack|pulse|alsa|null)";
  return make_null_clock_output(options.sample_rate_hz, options.block_frames, options.channels);
}

}  // namespace synthfarm
