// The one file that knows libjack's types (see jack_output.h).
#include "coordinator/output/jack_output.h"

#include <jack/jack.h>
#include <jack/thread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include "shared/realtime_policy.h"
#include "shared/segment_layout.h"

namespace synthfarm {
namespace {

using namespace std::chrono_literals;

// How long stop() lets jack_deactivate and jack_client_close take before it gives up on them
// (a frozen server answers nothing); a live or dead server answers within milliseconds.
constexpr auto kCloseTimeout = 2s;
// How long stop() waits for a process callback that is inside the mixer to leave it.
constexpr auto kCallbackExitTimeout = 200ms;

// libjack prints to stderr when no server answers; synthfarm says what failed itself, in one
// line that says what to do.
void silence(const char*) {}
void quiet_libjack() {
  jack_set_error_function(silence);
  jack_set_info_function(silence);
}

std::string server_name() {
  const char* name = std::getenv("JACK_DEFAULT_SERVER");
  return name && *name ? name : "default";
}

// Full names of the audio ports matching `pattern` (nullptr: all) with all of `flags`, in the
// order the server registered them.
std::vector<std::string> port_names(jack_client_t* client, const char* pattern,
                                    unsigned long flags) {
  std::vector<std::string> names;
  const char** ports = jack_get_ports(client, pattern, JACK_DEFAULT_AUDIO_TYPE, flags);
  if (!ports) return names;
  for (const char** port = ports; *port; ++port) names.emplace_back(*port);
  jack_free(ports);
  return names;
}

std::string owner_of(const std::string& port_name) {
  return port_name.substr(0, port_name.find(':'));
}

std::string join(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

class JackOutput final : public AudioOutput {
 public:
  // Thread: main. Takes an opened, inactive client with its ports registered.
  JackOutput(jack_client_t* client, std::vector<jack_port_t*> ports,
             std::vector<std::string> targets, std::string description,
             std::uint32_t render_ahead_buffers)
      : client_(client),
        client_name_(jack_get_client_name(client)),
        server_name_(server_name()),
        ports_(std::move(ports)),
        targets_(std::move(targets)),
        description_(std::move(description)),
        sample_rate_hz_(jack_get_sample_rate(client)),
        buffer_frames_(jack_get_buffer_size(client)),
        added_latency_frames_(render_ahead_buffers * buffer_frames_),
        interleaved_(std::size_t{kMaxBlockFrames} * ports_.size(), 0.0f) {}

  ~JackOutput() override { stop(); }
  JackOutput(const JackOutput&) = delete;
  JackOutput& operator=(const JackOutput&) = delete;

  // Thread: main. The callbacks must be set while the client is inactive; `this` must not move.
  bool set_callbacks() {
    jack_on_info_shutdown(client_, &JackOutput::server_gone, this);
    return jack_set_thread_init_callback(client_, &JackOutput::prepare_thread, nullptr) == 0 &&
           jack_set_process_callback(client_, &JackOutput::process, this) == 0 &&
           jack_set_xrun_callback(client_, &JackOutput::count_xrun, this) == 0 &&
           jack_set_buffer_size_callback(client_, &JackOutput::buffer_size_changed, this) == 0 &&
           jack_set_latency_callback(client_, &JackOutput::report_latency, this) == 0;
  }

  std::string description() const override {
    return description_ + ", " + std::to_string(sample_rate_hz_) + " Hz, " +
           std::to_string(buffer_frames_) + " frames per buffer";
  }
  std::uint32_t sample_rate_hz() const override { return sample_rate_hz_; }
  std::uint32_t buffer_frames() const override { return buffer_frames_; }

  bool start(Mixer& mixer, std::string& error) override {
    mixer_ = &mixer;  // published to the process thread by jack_activate's thread start
    if (jack_activate(client_) != 0) {
      error = "cannot activate the JACK client '" + client_name_ + "' on server '" + server_name_ +
              "' (did the server stop?)";
      return false;
    }
    active_ = true;
    // JACK connects only the ports of an active client.
    for (std::size_t c = 0; c < targets_.size() && c < ports_.size(); ++c) {
      const int result = jack_connect(client_, jack_port_name(ports_[c]), targets_[c].c_str());
      if (result != 0 && result != EEXIST) {
        error = std::string("cannot connect ") + jack_port_name(ports_[c]) + " to " + targets_[c] +
                " (JACK error " + std::to_string(result) +
                "); choose other ports with --connect, or --connect none";
        return false;
      }
    }
    return true;
  }

  // The one place that closes the client, once. Bounded: a server that does not answer within
  // kCloseTimeout is left to the process's exit.
  void stop() noexcept override {
    if (!client_) return;
    // seq_cst, with the process callback's store of in_process_ and load of closing_ (Dekker):
    // either the callback sees closing_ and leaves the mixer alone, or this sees in_process_ and
    // waits for it to end. A lost server can leave the process thread inside the callback, and
    // libjack cancels that thread asynchronously when the client closes: never inside the
    // (noexcept) mixer.
    closing_.store(true, std::memory_order_seq_cst);
    const auto deadline = std::chrono::steady_clock::now() + kCallbackExitTimeout;
    while (in_process_.load(std::memory_order_seq_cst) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);  // a callback lasts microseconds: rarely more than one
    }
    close_client();
    if (server_lost()) remove_orphaned_semaphore();
  }

  std::optional<int> audio_thread_priority() const override {
    if (!jack_is_realtime(client_)) return std::nullopt;
    const int priority = jack_client_real_time_priority(client_);
    return priority > 0 ? std::optional<int>(priority) : std::nullopt;
  }

  std::string failure() const override {
    if (server_lost()) {
      return "the JACK server '" + server_name_ + "' shut synthfarm's client '" + client_name_ +
             "' down (the server stopped or was killed); start the server again, then synthfarm";
    }
    // Relaxed: a value set once by the notification thread; nothing else rides on it.
    const std::uint32_t refused = refused_frames_.load(std::memory_order_relaxed);
    if (refused != 0) {
      return "the JACK server changed its buffer to " + std::to_string(refused) +
             " frames while synthfarm played; synthfarm follows buffers up to the " +
             std::to_string(buffer_frames_) + " frames it started with (its workers render " +
             std::to_string(buffer_frames_) + "-frame blocks " +
             std::to_string(added_latency_frames_) +
             " frames ahead): start synthfarm again to play at " + std::to_string(refused);
    }
    return {};
  }

  std::uint64_t server_xruns() const noexcept override {
    return xruns_.load(std::memory_order_relaxed);  // a counter; nothing rides on it
  }

 private:
  bool server_lost() const noexcept {
    return lost_.load(std::memory_order_acquire);  // pairs with server_gone's release
  }

  // Thread: each thread libjack starts for this client (the process thread among them), before
  // its first callback. Touches the stack, so that the first cycles take no page fault.
  static void prepare_thread(void*) { prefault_stack(); }

  // Thread: JACK's process thread. RT-safe: the mixer (no allocation, lock, I/O or logging),
  // jack_port_get_buffer and copies; nothing else.
  static int process(jack_nframes_t frames, void* arg) noexcept {
    auto* self = static_cast<JackOutput*>(arg);
    // seq_cst: see stop().
    self->in_process_.store(true, std::memory_order_seq_cst);
    const bool play = !self->closing_.load(std::memory_order_seq_cst);
    // A buffer larger than the one the workers render for cannot be filled in time: silence,
    // and the control thread ends the run through failure().
    if (play && frames <= self->buffer_frames_) {
      float* interleaved = self->interleaved_.data();
      self->mixer_->mix(interleaved, frames);
      const std::size_t channels = self->ports_.size();
      for (std::size_t c = 0; c < channels; ++c) {
        auto* out = static_cast<float*>(jack_port_get_buffer(self->ports_[c], frames));
        for (jack_nframes_t n = 0; n < frames; ++n) out[n] = interleaved[n * channels + c];
      }
    } else {
      for (jack_port_t* port : self->ports_) {
        std::memset(jack_port_get_buffer(port, frames), 0, frames * sizeof(float));
      }
    }
    // Release pairs with stop()'s load: the mixer's last writes happen before stop() goes on.
    self->in_process_.store(false, std::memory_order_release);
    return 0;
  }

  // Thread: JACK's notification thread (or the thread libjack finds the server gone on).
  // Written as an asynchronous signal handler must be, as libjack asks: one lock-free store.
  static void server_gone(jack_status_t, const char*, void* arg) noexcept {
    // Release pairs with server_lost()'s acquire on the control thread.
    static_cast<JackOutput*>(arg)->lost_.store(true, std::memory_order_release);
  }

  // Thread: JACK's notification thread, whenever any client of the graph missed its cycle.
  static int count_xrun(void* arg) noexcept {
    // Relaxed: a counter; nothing rides on it.
    static_cast<JackOutput*>(arg)->xruns_.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }

  // Thread: JACK's notification thread, before the first cycle at the new size (the server
  // runs no cycle meanwhile). A smaller buffer is followed as it is: the workers keep rendering
  // their blocks ahead and the mixer takes `frames` per cycle. A larger one is refused: the
  // workers' blocks and their fill target were sized for the buffer synthfarm started with.
  static int buffer_size_changed(jack_nframes_t frames, void* arg) noexcept {
    auto* self = static_cast<JackOutput*>(arg);
    // Relaxed: read by failure() only; the process callback checks its own `frames`.
    if (frames > self->buffer_frames_) {
      self->refused_frames_.store(frames, std::memory_order_relaxed);
    }
    return 0;
  }

  // Thread: JACK's notification thread, when the graph's latencies are recomputed. A port's
  // playback latency is the time from its buffer to the speakers: libjack has just set ours to
  // the range of the ports they feed; the audio synthfarm plays was rendered up to the fill
  // target earlier, so that is added.
  static void report_latency(jack_latency_callback_mode_t mode, void* arg) noexcept {
    if (mode != JackPlaybackLatency) return;  // nothing is captured: no capture latency
    auto* self = static_cast<JackOutput*>(arg);
    for (jack_port_t* port : self->ports_) {
      jack_latency_range_t range;
      jack_port_get_latency_range(port, JackPlaybackLatency, &range);
      range.min += self->added_latency_frames_;
      range.max += self->added_latency_frames_;
      jack_port_set_latency_range(port, JackPlaybackLatency, &range);
    }
  }

  // Thread: control. Deactivates and closes the client from a thread of its own, waited for at
  // most kCloseTimeout.
  void close_client() noexcept {
    jack_client_t* client = client_;
    client_ = nullptr;
    const bool active = active_;
    struct Done {
      std::mutex mutex;
      std::condition_variable closed;
      bool done = false;
    };
    const auto close = [client, active](Done* done) {
      // A lost server's socket is closed: libjack's writes to it would raise SIGPIPE, which
      // then stays pending on this thread alone and dies with it.
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
      if (active) jack_deactivate(client);
      jack_client_close(client);
      if (!done) return;
      {
        const std::lock_guard<std::mutex> lock(done->mutex);
        done->done = true;
      }
      done->closed.notify_one();
    };
    try {
      auto done = std::make_shared<Done>();
      std::thread closer([close, done] { close(done.get()); });
      std::unique_lock<std::mutex> lock(done->mutex);
      if (done->closed.wait_for(lock, kCloseTimeout, [&] { return done->done; })) {
        lock.unlock();
        closer.join();
      } else {
        lock.unlock();
        closer.detach();  // holds `done`; the process's exit ends it
        std::fprintf(stderr,
                     "synthfarm: the JACK server '%s' did not let client '%s' close within %lld "
                     "s; leaving it\n",
                     server_name_.c_str(), client_name_.c_str(),
                     static_cast<long long>(kCloseTimeout.count()));
      }
    } catch (const std::exception&) {
      close(nullptr);  // no thread to spare: close here, unbounded
    }
  }

  // jackd2 keeps a semaphore per client in /dev/shm, named "jack_sem.<uid>_<server>_<client>",
  // and removes it when the client closes, through the server. A server that was killed
  // cannot: remove ours, so that a lost server leaves nothing of synthfarm behind.
  void remove_orphaned_semaphore() const noexcept {
    const std::string path =
        "/dev/shm/jack_sem." + std::to_string(getuid()) + "_" + server_name_ + "_" + client_name_;
    ::unlink(path.c_str());  // absent when the server removed it: nothing to do
  }

  jack_client_t* client_;
  const std::string client_name_;
  const std::string server_name_;
  const std::vector<jack_port_t*> ports_;  // out_1 ... out_<channels>
  const std::vector<std::string> targets_;
  const std::string description_;
  const std::uint32_t sample_rate_hz_;
  const std::uint32_t buffer_frames_;         // the server's when opened; the most followed
  const std::uint32_t added_latency_frames_;  // the workers' fill target
  std::vector<float> interleaved_;            // kMaxBlockFrames x channels: the mixer's output
  Mixer* mixer_ = nullptr;                    // set by start() before the process thread runs
  bool active_ = false;                       // control thread only

  std::atomic<bool> in_process_{false};
  std::atomic<bool> closing_{false};
  std::atomic<bool> lost_{false};
  std::atomic<std::uint32_t> refused_frames_{0};
  std::atomic<std::uint64_t> xruns_{0};
  static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal-handler-like context");
};

// The ports `settings` asks to connect to, in channel order, and what to say about them; false
// with `error` when a pattern or a device has none.
bool plan_connections(jack_client_t* client, const JackOutputSettings& settings,
                      std::vector<std::string>& targets, std::string& said, std::string& error) {
  const std::string as_client =
      " as client '" + settings.client_name + "' on server '" + server_name() + "'";
  if (settings.device) {
    for (const std::string& port : port_names(client, nullptr, JackPortIsInput)) {
      if (owner_of(port) == settings.device->name) targets.push_back(port);
    }
    if (targets.empty()) {
      error = "the JACK device '" + settings.device->name +
              "' has no input ports any more (its client went away?); see synthfarm "
              "--list-devices --audio jack";
      return false;
    }
    said = "JACK device '" + settings.device->name + "'" + as_client;
    return true;
  }
  switch (settings.connections.kind) {
    case JackConnections::Kind::kNone:
      said = "JACK" + as_client + ", not connected (--connect none)";
      return true;
    case JackConnections::Kind::kPhysical:
      targets = port_names(client, nullptr, JackPortIsInput | JackPortIsPhysical);
      said = targets.empty() ? "JACK" + as_client +
                                   ", not connected (the server has no physical playback ports)"
                             : "JACK device '" + owner_of(targets.front()) + "'" + as_client;
      return true;
    case JackConnections::Kind::kPattern:
      targets = port_names(client, settings.connections.pattern.c_str(), JackPortIsInput);
      if (targets.empty()) {
        const std::vector<std::string> inputs = port_names(client, nullptr, JackPortIsInput);
        error = "--connect '" + settings.connections.pattern +
                "': no JACK input port matches (the server has " +
                (inputs.empty() ? std::string("none") : join(inputs)) +
                "); see jack_lsp, or use --connect none";
        return false;
      }
      said = "JACK" + as_client + ", connected to " + join(targets);
      return true;
  }
  return true;
}

}  // namespace

std::string jack_client_name_for(const std::string& instance_name) {
  // --name is the JACK client's name, as patchbays show it; the unnamed instance is "synthfarm"
  // rather than "default", which would say nothing there.
  return instance_name == kDefaultInstanceName ? "synthfarm" : instance_name;
}

std::unique_ptr<AudioOutput> open_jack_output(const JackOutputSettings& settings,
                                              std::string& error) {
  quiet_libjack();
  // libjack would otherwise refuse the name.
  const std::size_t name_limit = static_cast<std::size_t>(jack_client_name_size()) - 1;
  if (settings.client_name.size() > name_limit) {
    error = "the JACK client name '" + settings.client_name + "' is longer than JACK's " +
            std::to_string(name_limit) + " characters; choose a shorter --name";
    return nullptr;
  }
  jack_status_t status{};
  jack_client_t* client =
      jack_client_open(settings.client_name.c_str(),
                       static_cast<jack_options_t>(JackNoStartServer | JackUseExactName), &status);
  if (!client) {
    if (status & JackNameNotUnique) {
      error = "a JACK client named '" + settings.client_name + "' already exists on server '" +
              server_name() + "'; choose another --name";
    } else {
      error = "cannot open JACK server '" + server_name() + "' (" +
              advice_for(AudioApi::kJack).question + ")";
    }
    return nullptr;
  }
  // From here every failure closes the client: through the output once it exists.
  const auto fail = [&](const std::string& why) -> std::unique_ptr<AudioOutput> {
    error = why;
    jack_client_close(client);
    return nullptr;
  };
  const std::uint32_t rate = jack_get_sample_rate(client);
  if (rate != settings.sample_rate_hz) {
    return fail("the JACK server runs at " + std::to_string(rate) + " Hz, not " +
                std::to_string(settings.sample_rate_hz) + " Hz; use --sample-rate " +
                std::to_string(rate));
  }
  const std::uint32_t buffer = jack_get_buffer_size(client);
  if (buffer == 0 || buffer > kMaxBlockFrames) {
    return fail("the JACK server runs " + std::to_string(buffer) +
                " frames per buffer; synthfarm supports 1 to " + std::to_string(kMaxBlockFrames));
  }
  std::vector<std::string> targets;
  std::string said;
  if (!plan_connections(client, settings, targets, said, error)) return fail(error);
  std::vector<jack_port_t*> ports;
  for (std::uint32_t c = 0; c < settings.channels; ++c) {
    // Terminal: the audio originates here, it is not passed on from another port.
    const std::string name = "out_" + std::to_string(c + 1);
    jack_port_t* port = jack_port_register(client, name.c_str(), JACK_DEFAULT_AUDIO_TYPE,
                                           JackPortIsOutput | JackPortIsTerminal, 0);
    if (!port) {
      return fail("cannot register the JACK port " + settings.client_name + ":" + name +
                  " (the server's port limit, jackd --port-max?)");
    }
    ports.push_back(port);
  }
  auto output = std::make_unique<JackOutput>(client, std::move(ports), std::move(targets), said,
                                             settings.render_ahead_buffers);
  if (!output->set_callbacks()) {
    error = "cannot set the JACK client's callbacks (did the server stop?)";
    return nullptr;  // the output closes the client
  }
  return output;
}

std::vector<AudioDevice> probe_jack_devices() {
  quiet_libjack();
  std::vector<AudioDevice> devices;
  jack_status_t status{};
  jack_client_t* client = jack_client_open("synthfarm-list", JackNoStartServer, &status);
  if (!client) return devices;  // no server: no devices
  const unsigned rate = jack_get_sample_rate(client);
  const std::vector<std::string> physical_playback =
      port_names(client, nullptr, JackPortIsInput | JackPortIsPhysical);
  const std::string default_owner =
      physical_playback.empty() ? std::string() : owner_of(physical_playback.front());
  for (const std::string& port : port_names(client, nullptr, 0)) {
    const std::string owner = owner_of(port);
    auto device = std::find_if(devices.begin(), devices.end(),
                               [&](const AudioDevice& d) { return d.name == owner; });
    if (device == devices.end()) {
      AudioDevice added;
      added.api = AudioApi::kJack;
      added.index = static_cast<unsigned>(devices.size());
      added.name = owner;
      added.sample_rates_hz = {rate};
      added.preferred_rate_hz = rate;
      added.default_output = owner == default_owner;
      devices.push_back(added);
      device = devices.end() - 1;
    }
    const jack_port_t* handle = jack_port_by_name(client, port.c_str());
    const int flags = handle ? jack_port_flags(handle) : 0;
    if (flags & JackPortIsInput) ++device->output_channels;  // it takes audio: a place to play
    if (flags & JackPortIsOutput) ++device->input_channels;
  }
  jack_client_close(client);
  return devices;
}

}  // namespace synthfarm
