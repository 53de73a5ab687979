// The real-time path through a real JACK server: synthfarm plays into JACK, a capture client
// inside this test process records what synthfarm sends, and the recording is compared bit for
// bit with offline renders of the same configuration, and checked against control FIFO
// commands.
//
// Needs a running JACK server (scripts/test starts `jackd --no-realtime -d dummy`). Without
// one the tests are skipped, or fail when SYNTHFARM_REQUIRE_JACK=1.
//
// Tolerances, and why. jackd runs without real-time scheduling on a shared, noisy 2-core
// machine:
// - A worker is sometimes late. The mixer then plays silence for that worker in place of its
//   frames and never plays them later (coordinator/mixer.h), so a captured frame may be the
//   full sum, one worker's part alone, or silence, never anything else. At least 90% of the
//   frames must be the full sum (outside a stall this test causes on purpose).
// - A client sometimes misses its JACK cycle, and this jackd then runs the next cycle without
//   waiting for it: the capture client may see one synthfarm buffer twice or miss one. Such a
//   jump is accepted only next to an xrun that JACK reported (tests/support/timeline_comparison.h).
// - Callback counts and rates within ±15%.
// Every wait is bounded: a hang becomes a failure.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <jack/jack.h>
#include <signal.h>
#include <sndfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "coordinator/plan/cli_options.h"
#include "coordinator/plan/frequency_plan.h"
#include "tests/support/child_process.h"
#include "tests/support/jack_ports.h"
#include "tests/support/temp_dir.h"
#include "tests/support/timeline_comparison.h"
#include "tests/support/wav_file.h"

namespace synthfarm {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::TempDir;
using testing::TimelineComparison;

constexpr std::uint32_t kChannels = 2;
constexpr auto kStartupTimeout = 10s;  // start-up report on stdout (workers attach within 5 s)
constexpr auto kPortTimeout = 5s;      // synthfarm's JACK ports usable after the report
constexpr auto kCommandTimeout = 3s;   // a FIFO command's echo or status report on stdout
constexpr auto kExitTimeout = 3s;      // the child's exit after its end (--duration or quit)
constexpr auto kRenderTimeout = 30s;   // an offline reference render of 4 s

// ---------------------------------------------------------------------------------------------
// A JACK client in this process that records its input ports into preallocated buffers.

class JackCapture {
 public:
  // Opens a client named `client_name` without starting a server. Returns nullptr and sets
  // `error` when no JACK server answers. May block (talks to the server); allocates.
  static std::unique_ptr<JackCapture> open(const std::string& client_name, std::string& error) {
    jack_status_t status{};
    jack_client_t* client = jack_client_open(client_name.c_str(), JackNoStartServer, &status);
    if (!client) {
      const char* server = std::getenv("JACK_DEFAULT_SERVER");
      std::ostringstream text;
      text << "jack_client_open failed (status 0x" << std::hex << status << std::dec
           << "): no JACK server '" << (server ? server : "default")
           << "' answers (is jackd running, as this user, with this JACK_DEFAULT_SERVER?)";
      error = text.str();
      return nullptr;
    }
    return std::unique_ptr<JackCapture>(new JackCapture(client));
  }

  ~JackCapture() {
    jack_deactivate(client_);
    jack_client_close(client_);
  }
  JackCapture(const JackCapture&) = delete;
  JackCapture& operator=(const JackCapture&) = delete;

  std::uint32_t sample_rate_hz() const { return jack_get_sample_rate(client_); }
  std::uint32_t buffer_frames() const { return jack_get_buffer_size(client_); }

  // Registers `channels` input ports, sizes the recording for `capacity_frames` and activates
  // the client. It records nothing until arm(). Allocates; talks to the server.
  bool start(std::uint32_t channels, std::uint64_t capacity_frames, std::string& error) {
    for (std::uint32_t c = 0; c < channels; ++c) {
      const std::string port_name = "in_" + std::to_string(c);
      jack_port_t* port = jack_port_register(client_, port_name.c_str(), JACK_DEFAULT_AUDIO_TYPE,
                                             JackPortIsInput, 0);
      if (!port) {
        error = "cannot register the capture port " + port_name;
        return false;
      }
      ports_.push_back(port);
      recording_.emplace_back(capacity_frames, 0.0f);
    }
    capacity_frames_ = capacity_frames;
    xruns_at_cycle_.assign(capacity_frames / buffer_frames() + 1, 0);
    if (jack_set_process_callback(client_, &JackCapture::process, this) != 0 ||
        jack_set_xrun_callback(client_, &JackCapture::count_xrun, this) != 0 ||
        jack_activate(client_) != 0) {
      error = "cannot activate the capture client";
      return false;
    }
    return true;
  }

  // Full names of the audio output ports of the JACK client `owner`, in registration order.
  std::vector<std::string> output_ports_of(const std::string& owner) const {
    return testing::audio_ports(client_, "^" + owner + ":", JackPortIsOutput);
  }

  // Connects `sources[c]` to this client's input port c. An existing connection is fine.
  bool connect_from(const std::vector<std::string>& sources, std::string& error) {
    for (std::size_t c = 0; c < sources.size() && c < ports_.size(); ++c) {
      const int result = jack_connect(client_, sources[c].c_str(), jack_port_name(ports_[c]));
      if (result != 0 && result != EEXIST) {
        error = "jack_connect " + sources[c] + " -> " + jack_port_name(ports_[c]) +
                " failed with " + std::to_string(result);
        return false;
      }
    }
    return true;
  }

  // Thread: test. The names of the ports connected to `port_name` (any client's).
  std::vector<std::string> connections(const std::string& port_name) const {
    return testing::port_connections(client_, port_name);
  }

  // Thread: test. Full name of this client's input port `channel` (from 0).
  std::string input_port_name(std::uint32_t channel) const {
    return jack_port_name(ports_.at(channel));
  }

  // Thread: test. The playback latency range the graph holds for `port_name` (any client's):
  // frames from that port's buffer to the speakers. nullopt for a port that does not exist.
  std::optional<jack_latency_range_t> playback_latency(const std::string& port_name) const {
    jack_port_t* port = jack_port_by_name(client_, port_name.c_str());
    if (!port) return std::nullopt;
    jack_latency_range_t range{};
    jack_port_get_latency_range(port, JackPlaybackLatency, &range);
    return range;
  }

  // Thread: test. Asks the server for another period (every client then runs at it). Blocks
  // until the server has changed it.
  bool set_server_buffer_frames(std::uint32_t frames) {
    return jack_set_buffer_size(client_, frames) == 0;
  }

  // Thread: test. Makes the next process cycle of this client take `duration` (a fault put in
  // on purpose: the server then reports an xrun to every client of the graph).
  void stall_next_cycle(std::chrono::microseconds duration) {
    stall_us_.store(duration.count(), std::memory_order_relaxed);  // a request; nothing rides
  }

  // Thread: test. Xruns JACK has reported to this client.
  std::uint32_t xruns() const {
    return xruns_.load(std::memory_order_relaxed);  // a counter; nothing rides on it
  }

  // Thread: test. From the next process cycle on, the callback records.
  void arm() {
    armed_.store(true, std::memory_order_release);  // pairs with the callback's acquire
  }

  // Thread: test. Frames recorded so far; frames below this may be read with sample().
  std::uint64_t frames() const {
    return frames_.load(std::memory_order_acquire);  // pairs with the callback's release
  }

  // Thread: test. Only for frame < frames().
  float sample(std::uint64_t frame, std::uint32_t channel) const {
    return recording_[channel][frame];
  }

  // Thread: test. The recording so far, interleaved, as TimelineComparison reads it.
  std::vector<float> interleaved() const {
    const std::uint64_t count = frames();
    std::vector<float> samples(count * recording_.size());
    for (std::uint64_t i = 0; i < count; ++i) {
      for (std::size_t c = 0; c < recording_.size(); ++c) {
        samples[i * recording_.size() + c] = recording_[c][i];
      }
    }
    return samples;
  }

  // Thread: test. Every xrun JACK has reported, as the capture frame at which the capture first
  // knew of it (TimelineComparison::Input::xrun_frames): the first frame of the first cycle
  // recorded after the report; 0 before the recording, its length after its last cycle began.
  std::vector<std::uint64_t> xrun_frames() const {
    const std::uint64_t cycles = (frames() + buffer_frames() - 1) / buffer_frames();
    // Relaxed: a counter; nothing rides on it.
    const std::uint32_t total = xruns_.load(std::memory_order_relaxed);
    std::vector<std::uint64_t> positions;
    std::uint32_t known = 0;
    for (std::uint64_t cycle = 0; cycle <= cycles; ++cycle) {
      const std::uint32_t by_then =
          cycle < cycles ? std::max(known, xruns_at_cycle_[cycle]) : std::max(known, total);
      positions.insert(positions.end(), by_then - known,
                       std::min(cycle * buffer_frames(), frames()));
      known = by_then;
    }
    return positions;
  }

  // Thread: test. Waits until `frame_count` frames are recorded; false on timeout.
  bool wait_for_frames(std::uint64_t frame_count, std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (frames() < frame_count) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }

 private:
  explicit JackCapture(jack_client_t* client) : client_(client) {}

  // Thread: JACK's process thread. RT-safe: no allocation, lock or syscall; copies into the
  // preallocated recording and publishes the new frame count.
  static int process(jack_nframes_t frame_count, void* user) noexcept {
    auto* self = static_cast<JackCapture*>(user);
    // The fault stall_next_cycle() asks for, and nothing else, sleeps here.
    if (const auto stall_us = self->stall_us_.exchange(0, std::memory_order_relaxed)) {
      std::this_thread::sleep_for(std::chrono::microseconds(stall_us));
    }
    if (!self->armed_.load(std::memory_order_acquire)) return 0;  // pairs with arm()'s release
    // Relaxed: only this thread writes frames_.
    const std::uint64_t first = self->frames_.load(std::memory_order_relaxed);
    const std::uint64_t count =
        std::min<std::uint64_t>(frame_count, self->capacity_frames_ - first);
    if (count == 0) return 0;
    // Relaxed: a counter; nothing rides on it.
    self->xruns_at_cycle_[first / frame_count] = self->xruns_.load(std::memory_order_relaxed);
    for (std::size_t c = 0; c < self->ports_.size(); ++c) {
      const auto* input =
          static_cast<const float*>(jack_port_get_buffer(self->ports_[c], frame_count));
      std::copy(input, input + count, self->recording_[c].begin() + first);
    }
    // Release after the data: pairs with frames()'s acquire on the test thread.
    self->frames_.store(first + count, std::memory_order_release);
    return 0;
  }

  // Thread: JACK's notification thread, whenever any client of the server missed its cycle.
  static int count_xrun(void* user) noexcept {
    // Relaxed: a counter; nothing rides on it.
    static_cast<JackCapture*>(user)->xruns_.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }

  jack_client_t* client_;
  std::vector<jack_port_t*> ports_;
  std::vector<std::vector<float>> recording_;  // [channel][frame], sized by start()
  std::uint64_t capacity_frames_ = 0;
  std::vector<std::uint32_t> xruns_at_cycle_;  // by capture cycle, sized by start()
  std::atomic<bool> armed_{false};
  std::atomic<std::uint64_t> frames_{0};
  std::atomic<std::uint32_t> xruns_{0};
  std::atomic<std::int64_t> stall_us_{0};
};

// ---------------------------------------------------------------------------------------------
// The synthfarm child process: start-up report, control FIFO, status lines, leftovers.

using testing::read_wav;
using testing::Wav;

// Writes `line` to the control FIFO: open (non-blocking, so that a FIFO without a reader fails
// instead of hanging), write, close.
::testing::AssertionResult write_control(const std::string& fifo, const std::string& line) {
  const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    return ::testing::AssertionFailure()
           << "cannot open the control FIFO " << fifo << ": " << std::strerror(errno);
  }
  const ssize_t written = ::write(fd, line.data(), line.size());
  const int write_errno = errno;
  ::close(fd);
  if (written != static_cast<ssize_t>(line.size())) {
    return ::testing::AssertionFailure()
           << "writing '" << line << "' to " << fifo << " failed: " << std::strerror(write_errno);
  }
  return ::testing::AssertionSuccess();
}

// Every match of `pattern` in `text`, which must outlive the result.
std::vector<std::smatch> all_matches(const std::string& text, const std::regex& pattern) {
  std::vector<std::smatch> matches;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), pattern);
       it != std::sregex_iterator(); ++it) {
    matches.push_back(*it);
  }
  return matches;
}

// One `status` report as the coordinator prints it.
struct StatusReport {
  std::uint64_t callbacks = 0;
  std::chrono::steady_clock::time_point seen;  // when this test saw it on stdout
  struct Worker {
    std::string state;
    std::uint64_t rendered_frames = 0;
  };
  std::vector<Worker> workers;
};

const std::regex kStatusHeadLine(R"(\nstatus: seconds=\S+ timeline_frames=\d+ callbacks=(\d+) )");
const std::regex kStatusWorkerLine(
    R"(\nstatus worker (\d+): state=(\w+) pid=\d+ oscillators=\d+ rendered_frames=(\d+) .*(?=\n))");

// Writes "status" to the FIFO and waits for the complete report (the head line and one line
// per worker, newer than any report before). nullopt on timeout, with a failure recorded.
std::optional<StatusReport> request_status(ChildProcess& child, const std::string& fifo,
                                           std::uint32_t workers) {
  const std::size_t reports_before =
      all_matches("\n" + child.stdout_text(), kStatusHeadLine).size();
  if (!write_control(fifo, "status\n")) {
    ADD_FAILURE() << "cannot request a status report";
    return std::nullopt;
  }
  const auto deadline = std::chrono::steady_clock::now() + kCommandTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = "\n" + child.stdout_text();
    const auto heads = all_matches(text, kStatusHeadLine);
    if (heads.size() > reports_before) {
      const auto& head = heads[reports_before];
      const std::string report_text = text.substr(static_cast<std::size_t>(head.position(0)));
      const auto lines = all_matches(report_text, kStatusWorkerLine);
      if (lines.size() >= workers) {
        StatusReport report;
        report.seen = std::chrono::steady_clock::now();
        report.callbacks = std::stoull(head[1].str());
        for (std::uint32_t w = 0; w < workers; ++w) {
          EXPECT_EQ(std::stoul(lines[w][1].str()), w) << "status lines out of order:\n" << text;
          report.workers.push_back({lines[w][2].str(), std::stoull(lines[w][3].str())});
        }
        return report;
      }
    }
    std::this_thread::sleep_for(10ms);
  }
  ADD_FAILURE() << "no status report within " << kCommandTimeout.count()
                << " s of writing 'status'; stdout:\n"
                << child.stdout_text() << "stderr:\n"
                << child.stderr_text();
  return std::nullopt;
}

// What one synthfarm run must have released by the time it exited.
struct RunResources {
  std::string name;
  std::string fifo;
  std::vector<pid_t> worker_pids;
};

void expect_nothing_left_behind(const RunResources& run) {
  for (const pid_t pid : run.worker_pids) {
    EXPECT_FALSE(testing::process_alive(pid))
        << "worker pid " << pid << " is still running after the coordinator exited";
  }
  const auto entries = testing::shm_entries("synthfarm-" + run.name);
  EXPECT_TRUE(entries.empty()) << "/dev/shm still holds " << entries.size()
                               << " entries of this run after it exited, the first: /dev/shm/"
                               << entries.front();
  EXPECT_FALSE(std::filesystem::exists(run.fifo))
      << "the control FIFO " << run.fifo << " still exists after synthfarm exited";
}

// Waits for the start-up report and returns the workers' pids from its
// "synthfarm: worker N pid P ..." lines; empty on timeout, with a failure recorded.
std::vector<pid_t> wait_for_startup(ChildProcess& child, std::uint32_t workers) {
  const std::string last_worker =
      "synthfarm: worker " + std::to_string(workers - 1) + " pid \\d+ plays";
  if (!child.wait_for_stdout(std::regex(last_worker), kStartupTimeout)) {
    ADD_FAILURE() << "no start-up report within " << kStartupTimeout.count() << " s; stdout:\n"
                  << child.stdout_text() << "stderr:\n"
                  << child.stderr_text();
    return {};
  }
  std::vector<pid_t> pids;
  const std::string text = child.stdout_text();
  for (const auto& match : all_matches(text, std::regex(R"(synthfarm: worker \d+ pid (\d+) )"))) {
    pids.push_back(static_cast<pid_t>(std::stol(match[1].str())));
  }
  EXPECT_EQ(pids.size(), workers) << "start-up report:\n" << text;
  return pids;
}

// Waits until the JACK client `client` has `channels` audio output ports and accepts
// connections, connects them to the capture client in order and arms it. False on failure,
// with a failure recorded.
bool connect_and_arm(JackCapture& capture, ChildProcess& child, const std::string& client,
                     std::uint32_t channels) {
  const auto deadline = std::chrono::steady_clock::now() + kPortTimeout;
  std::vector<std::string> ports = capture.output_ports_of(client);
  while (ports.size() < channels && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
    ports = capture.output_ports_of(client);
  }
  if (ports.size() != channels) {
    ADD_FAILURE() << "JACK client '" << client << "' has " << ports.size() << " audio output ports "
                  << kPortTimeout.count() << " s after the start-up report, not " << channels
                  << "; stderr:\n"
                  << child.stderr_text();
    return false;
  }
  // Named after the client, out_1, out_2, ... in channel order.
  for (std::uint32_t c = 0; c < channels; ++c) {
    EXPECT_EQ(ports[c], client + ":out_" + std::to_string(c + 1))
        << "synthfarm's JACK ports are not named <client>:out_<channel from 1>";
  }
  // The ports exist from the moment synthfarm opens its client, but JACK refuses to connect
  // the ports of a client that is not active yet ("Cannot connect ports owned by inactive
  // clients"), and synthfarm activates its client only after the start-up report, once the
  // workers have filled their rings: retry until then.
  std::string error;
  while (!capture.connect_from(ports, error)) {
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << error << " for " << kPortTimeout.count()
                    << " s (is synthfarm's JACK client active?); stderr:\n"
                    << child.stderr_text();
      return false;
    }
    std::this_thread::sleep_for(20ms);
  }
  capture.arm();
  return true;
}

double rms(const JackCapture& capture, std::uint32_t channel, std::uint64_t begin,
           std::uint64_t end) {
  if (end <= begin) return 0.0;
  double sum = 0.0;
  for (std::uint64_t i = begin; i < end; ++i) {
    const double value = capture.sample(i, channel);
    sum += value * value;
  }
  return std::sqrt(sum / static_cast<double>(end - begin));
}

// ---------------------------------------------------------------------------------------------

class JackOutput : public ::testing::Test {
 protected:
  void SetUp() override {
    static int clients_opened = 0;
    const std::string client_name =
        "sfcap-" + std::to_string(getpid()) + "-" + std::to_string(++clients_opened);
    std::string error;
    capture_ = JackCapture::open(client_name, error);
    if (!capture_) {
      const char* require = std::getenv("SYNTHFARM_REQUIRE_JACK");
      if (require && std::string(require) == "1") {
        FAIL() << error << "; SYNTHFARM_REQUIRE_JACK=1 makes this a failure";
      }
      GTEST_SKIP() << error << "; skipped (set SYNTHFARM_REQUIRE_JACK=1 to make this fail)";
    }
    rate_hz_ = capture_->sample_rate_hz();
    block_frames_ = capture_->buffer_frames();
  }

  // Renders `arguments` offline into `path` under an instance name and FIFO of its own, and
  // reads the result; nullopt with a failure recorded if that fails.
  std::optional<Wav> render_offline(const std::vector<std::string>& arguments,
                                    const std::string& path, const std::string& instance) {
    std::vector<std::string> argv{testing::built_program("synthfarm"),
                                  "--name",
                                  testing::unique_instance_name(instance),
                                  "--control",
                                  directory_.file(instance + ".control"),
                                  "--sample-rate",
                                  std::to_string(rate_hz_),
                                  "--output",
                                  path};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    ChildProcess render(argv);
    const auto code = render.wait_exit_code(kRenderTimeout);
    if (code != 0) {
      ADD_FAILURE() << "the offline reference render " << instance << " exited with "
                    << (code ? std::to_string(*code) : "nothing within 30 s") << "; stderr:\n"
                    << render.stderr_text();
      return std::nullopt;
    }
    std::string error;
    auto wav = read_wav(path, error);
    if (!wav) ADD_FAILURE() << error;
    return wav;
  }

  std::uint64_t frames_for(std::chrono::milliseconds time) const {
    return static_cast<std::uint64_t>(time.count()) * rate_hz_ / 1000;
  }
  double milliseconds_for(std::uint64_t frames) const { return 1000.0 * frames / rate_hz_; }

  TempDir directory_;
  std::unique_ptr<JackCapture> capture_;
  std::uint32_t rate_hz_ = 0;
  std::uint32_t block_frames_ = 0;
};

// The real-time run sends JACK exactly what the offline render of the same configuration holds
// at the same timeline position, except that an underrun is silence (late audio is never
// played), and its callback runs at the server's rate.
TEST_F(JackOutput, JackRunPlaysTheExpectedSumAtTheExpectedRate) {
  constexpr std::uint32_t kWorkers = 2;
  constexpr std::uint32_t kSines = 50;
  constexpr std::uint64_t kSeed = 7;
  constexpr double kRunSeconds = 3.0;
  constexpr auto kWorkerFreeze = 50ms;
  const std::uint64_t run_frames = static_cast<std::uint64_t>(kRunSeconds * rate_hz_);
  const std::uint64_t capture_frames = frames_for(2000ms);  // ends well before the run does

  std::string error;
  ASSERT_TRUE(capture_->start(kChannels, capture_frames, error)) << error;

  RunResources run{testing::unique_instance_name("jackrate"), directory_.file("ctl"), {}};
  const std::string client = run.name;  // --name is the JACK client's name
  ChildProcess child({testing::built_program("synthfarm"), "--audio", "jack", "--name", run.name,
                      "--control", run.fifo, "--workers", std::to_string(kWorkers), "--sines",
                      std::to_string(kSines), "--seed", std::to_string(kSeed), "--sample-rate",
                      std::to_string(rate_hz_), "--duration", "3"});
  run.worker_pids = wait_for_startup(child, kWorkers);
  ASSERT_EQ(run.worker_pids.size(), kWorkers);
  ASSERT_TRUE(connect_and_arm(*capture_, child, client, kChannels));

  // The callback rate comes from two status reports about 2 s apart.
  const auto first_status = request_status(child, run.fifo, kWorkers);
  ASSERT_TRUE(first_status);

  // An underrun on purpose: worker 1 is frozen for far longer than the 2 buffers it renders
  // ahead. Its part must be silent meanwhile, and once it runs again the frames it renders
  // late must be dropped, so that it plays in step with worker 0 again.
  // The freeze lasts kWorkerFreeze of JACK's time, not of the wall clock: on a loaded machine
  // JACK may run few cycles in that much wall-clock time.
  ASSERT_TRUE(capture_->wait_for_frames(frames_for(500ms), 3s)) << "JACK stopped capturing";
  const std::uint64_t freeze_begin = capture_->frames();
  ASSERT_EQ(kill(run.worker_pids[1], SIGSTOP), 0) << std::strerror(errno);
  const bool froze_long_enough =
      capture_->wait_for_frames(freeze_begin + frames_for(kWorkerFreeze), 3s);
  ASSERT_EQ(kill(run.worker_pids[1], SIGCONT), 0) << std::strerror(errno);
  ASSERT_TRUE(froze_long_enough) << "JACK stopped capturing while worker 1 was frozen";
  const std::uint64_t freeze_end = capture_->frames();
  // It then works off what it owes at about one buffer per callback, so its part stays
  // silent for about as long again (plus slack for scheduling).
  const std::uint64_t stall_end = freeze_end + (freeze_end - freeze_begin) + frames_for(100ms);

  ASSERT_TRUE(capture_->wait_for_frames(capture_frames, 6s))
      << "the capture holds " << capture_->frames() << " of " << capture_frames
      << " frames after 6 s: JACK stopped calling the capture client";
  const auto second_status = request_status(child, run.fifo, kWorkers);
  ASSERT_TRUE(second_status);

  const auto code = child.wait_exit_code(
      std::chrono::milliseconds(static_cast<std::int64_t>(kRunSeconds * 1000)) + kExitTimeout);
  ASSERT_TRUE(code) << "synthfarm did not exit within " << kExitTimeout.count()
                    << " s after the end of --duration 3; stdout:\n"
                    << child.stdout_text();
  EXPECT_EQ(*code, 0) << "stderr:\n" << child.stderr_text();
  expect_nothing_left_behind(run);

  // The rate: JACK calls synthfarm once per period, rate / buffer times a second.
  const double expected_rate = static_cast<double>(rate_hz_) / block_frames_;
  const double seconds =
      std::chrono::duration<double>(second_status->seen - first_status->seen).count();
  const double measured_rate =
      static_cast<double>(second_status->callbacks - first_status->callbacks) / seconds;
  EXPECT_NEAR(measured_rate, expected_rate, 0.15 * expected_rate)
      << "callbacks per second between two status reports " << seconds << " s apart";

  const std::string out = child.stdout_text();
  std::smatch final_line;
  ASSERT_TRUE(std::regex_search(out, final_line, std::regex(R"(final: .* callbacks=(\d+) )")))
      << "no 'final: ... callbacks=N' line on stdout:\n"
      << out;
  const double expected_callbacks = kRunSeconds * rate_hz_ / block_frames_;
  EXPECT_NEAR(std::stod(final_line[1].str()), expected_callbacks, 0.15 * expected_callbacks)
      << "callbacks in a " << kRunSeconds << " s run at " << rate_hz_ << " Hz, " << block_frames_
      << " frames per buffer";
  std::smatch worker_line;
  ASSERT_TRUE(std::regex_search(
      out, worker_line,
      std::regex(R"(final worker 1: .* underrun_frames=(\d+) .* discarded_frames=(\d+) )")))
      << "no 'final worker 1: ...' line with underrun_frames and discarded_frames:\n"
      << out;
  EXPECT_GT(std::stoull(worker_line[1].str()), 0u)
      << "synthfarm counted no underrun for worker 1, which was frozen for "
      << kWorkerFreeze.count() << " ms";
  EXPECT_GT(std::stoull(worker_line[2].str()), 0u)
      << "synthfarm discarded none of the frames that worker 1 delivered late";

  // References: the whole mix, and each worker's part alone (what plays while the other
  // underruns). Each worker's share of the seeded frequencies goes into a file, one per line
  // with 17 significant digits, which read back as the same doubles.
  const Options defaults;
  const auto full =
      render_offline({"--workers", std::to_string(kWorkers), "--sines", std::to_string(kSines),
                      "--seed", std::to_string(kSeed), "--duration", "4"},
                     directory_.file("full.wav"), "jackref");
  ASSERT_TRUE(full);
  ASSERT_EQ(full->channels, kChannels);
  ASSERT_GE(full->frames, run_frames);
  const auto frequencies =
      draw_frequencies_hz(kSeed, kWorkers * kSines, defaults.freq_min_hz, defaults.freq_max_hz);
  const auto groups = deal_contiguous_groups(frequencies.size(), kWorkers);
  std::vector<Wav> alone;
  for (std::uint32_t w = 0; w < kWorkers; ++w) {
    const std::string freqs = directory_.file("worker" + std::to_string(w) + ".freqs");
    {
      std::ofstream file(freqs);
      char text[64];
      for (std::uint64_t k = 0; k < groups[w].oscillator_count; ++k) {
        std::snprintf(text, sizeof text, "%.17g\n", frequencies[groups[w].first_oscillator + k]);
        file << text;
      }
    }
    auto wav = render_offline({"--workers", "1", "--freqs-file", freqs, "--duration", "4"},
                              directory_.file("worker" + std::to_string(w) + ".wav"),
                              "jackref" + std::to_string(w));
    ASSERT_TRUE(wav);
    ASSERT_GE(wav->frames, run_frames);
    alone.push_back(std::move(*wav));
  }

  const std::vector<float> captured = capture_->interleaved();
  TimelineComparison::Input input{.capture = {captured, kChannels},
                                  .xrun_frames = capture_->xrun_frames(),
                                  .full = {full->samples, full->channels},
                                  .alone = {},
                                  .block_frames = block_frames_,
                                  .run_frames = run_frames,
                                  .set_aside_begin = freeze_begin,
                                  .set_aside_end = stall_end};
  for (const Wav& wav : alone) input.alone.push_back({wav.samples, wav.channels});
  const TimelineComparison comparison(std::move(input));
  const std::string summary = comparison.describe(rate_hz_);
  std::cout << "[ capture  ] " << summary << "; " << measured_rate << " callbacks/s (expected "
            << expected_rate << ")\n";
  ASSERT_TRUE(comparison.found())
      << "none of the first non-silent captured blocks of " << block_frames_
      << " frames occurs bit for bit at a buffer boundary of the offline render";
  ASSERT_GE(comparison.compared_frames(), frames_for(1500ms))
      << "too little of the capture lies before the run's end to compare; " << summary;
  EXPECT_EQ(comparison.wrong_frames(), 0u)
      << "captured frames that are neither the offline render's sum, nor one worker's part of "
         "it, nor silence, at any timeline position JACK could have delivered: "
      << summary;
  EXPECT_TRUE(comparison.unexplained_jumps().empty())
      << "the capture left synthfarm's timeline where JACK reported no xrun, so synthfarm "
         "itself slipped (late audio played, or audio dropped without an underrun): "
      << summary;
  EXPECT_GE(comparison.set_aside().one_worker, block_frames_)
      << "worker 1 was frozen for " << kWorkerFreeze.count()
      << " ms, yet the capture holds no buffer with worker 0's part alone: " << summary;
  EXPECT_GE(comparison.outside().full, comparison.outside().total() * 9 / 10)
      << "fewer than 90% of the captured frames are the full sum (too many underruns): " << summary;
}

// `stop 1` silences worker 1 (its channel is exactly 0 and it renders nothing) while worker 0
// plays on, `play 1` brings it back, and `quit` ends the run cleanly.
TEST_F(JackOutput, FifoStopSilencesAWorkerAndPlayBringsItBack) {
  constexpr std::uint32_t kWorkers = 2;
  constexpr double kPlaying = 0.1;  // RMS; a sine of amplitude 0.5 has 0.35
  std::string error;
  ASSERT_TRUE(capture_->start(kChannels, frames_for(10000ms), error)) << error;

  // Oscillator k of a worker plays on channel k % 2, and 0 Hz is exact silence: worker 0
  // gets [440, 0] and plays on the left only, worker 1 gets [0, 660] and plays on the right.
  const std::string freqs = directory_.file("freqs");
  std::ofstream(freqs) << "440\n0\n0\n660\n";
  RunResources run{testing::unique_instance_name("jackfifo"), directory_.file("ctl"), {}};
  const std::string client = run.name;  // --name is the JACK client's name
  ChildProcess child({testing::built_program("synthfarm"), "--audio", "jack", "--name", run.name,
                      "--control", run.fifo, "--workers", std::to_string(kWorkers), "--freqs-file",
                      freqs, "--mul", "0.5", "--sample-rate", std::to_string(rate_hz_)});
  run.worker_pids = wait_for_startup(child, kWorkers);
  ASSERT_EQ(run.worker_pids.size(), kWorkers);
  ASSERT_TRUE(connect_and_arm(*capture_, child, client, kChannels));

  // Both play before the stop.
  ASSERT_TRUE(capture_->wait_for_frames(frames_for(300ms), 3s)) << "JACK stopped capturing";
  const std::uint64_t stop_frame = capture_->frames();
  EXPECT_GT(rms(*capture_, 0, stop_frame - frames_for(100ms), stop_frame), kPlaying)
      << "the left channel (worker 0) does not play before the stop";
  EXPECT_GT(rms(*capture_, 1, stop_frame - frames_for(100ms), stop_frame), kPlaying)
      << "the right channel (worker 1) does not play before the stop";

  ASSERT_TRUE(write_control(run.fifo, "stop 1\n"));
  ASSERT_TRUE(child.wait_for_stdout(std::regex("control: stop 1\n"), kCommandTimeout))
      << "synthfarm did not acknowledge 'stop 1'; stderr:\n"
      << child.stderr_text();

  // A stopped worker renders nothing: its rendered_frames stays put while worker 0's grows.
  // The first count is taken once the mixer reports the stop, and one report later, so that
  // a block the worker was rendering when the stop came is already counted.
  std::optional<StatusReport> before;
  const auto stop_deadline = std::chrono::steady_clock::now() + kCommandTimeout;
  do {
    before = request_status(child, run.fifo, kWorkers);
    ASSERT_TRUE(before);
  } while (before->workers[1].state != "stopped" &&
           std::chrono::steady_clock::now() < stop_deadline);
  ASSERT_EQ(before->workers[1].state, "stopped")
      << "worker 1 is not reported stopped " << kCommandTimeout.count() << " s after 'stop 1'";
  before = request_status(child, run.fifo, kWorkers);
  ASSERT_TRUE(before);
  std::this_thread::sleep_for(300ms);
  const auto after = request_status(child, run.fifo, kWorkers);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->workers[1].state, "stopped");
  EXPECT_EQ(after->workers[1].rendered_frames, before->workers[1].rendered_frames)
      << "stopped worker 1 went on rendering";
  EXPECT_EQ(after->workers[0].state, "playing");
  EXPECT_GT(after->workers[0].rendered_frames, before->workers[0].rendered_frames)
      << "worker 0 stopped rendering while worker 1 was stopped";

  const std::uint64_t play_frame = capture_->frames();
  ASSERT_TRUE(write_control(run.fifo, "play 1\n"));
  ASSERT_TRUE(child.wait_for_stdout(std::regex("control: play 1\n"), kCommandTimeout))
      << "synthfarm did not acknowledge 'play 1'; stderr:\n"
      << child.stderr_text();
  ASSERT_TRUE(capture_->wait_for_frames(play_frame + frames_for(600ms), 3s))
      << "JACK stopped capturing";

  ASSERT_TRUE(write_control(run.fifo, "quit\n"));
  const auto code = child.wait_exit_code(kExitTimeout);
  ASSERT_TRUE(code) << "synthfarm did not exit within " << kExitTimeout.count()
                    << " s of 'quit'; stdout:\n"
                    << child.stdout_text();
  EXPECT_EQ(*code, 0) << "stderr:\n" << child.stderr_text();
  expect_nothing_left_behind(run);

  // The stop took effect after the right channel's last non-zero sample before `play`; from
  // there to `play` the right channel is exactly 0, for at least 200 ms, and the left plays.
  std::uint64_t silent_from = stop_frame;
  for (std::uint64_t i = play_frame; i > stop_frame; --i) {
    if (capture_->sample(i - 1, 1) != 0.0f) {
      silent_from = i;
      break;
    }
  }
  EXPECT_LE(silent_from - stop_frame, frames_for(500ms))
      << "the right channel went silent only " << milliseconds_for(silent_from - stop_frame)
      << " ms after 'stop 1'";
  EXPECT_GE(play_frame - silent_from, frames_for(200ms))
      << "the right channel is exactly 0 only for the last "
      << milliseconds_for(play_frame - silent_from) << " ms before 'play 1' (written "
      << milliseconds_for(play_frame - stop_frame) << " ms after 'stop 1')";
  EXPECT_GT(rms(*capture_, 0, silent_from, play_frame), kPlaying)
      << "the left channel (worker 0) did not play on while worker 1 was stopped";

  // After `play`, the right channel sounds again within 500 ms, at full level after its fade.
  const std::uint64_t captured = capture_->frames();
  std::optional<std::uint64_t> back_at;
  for (std::uint64_t i = play_frame; i < captured && !back_at; ++i) {
    if (capture_->sample(i, 1) != 0.0f) back_at = i;
  }
  ASSERT_TRUE(back_at) << "the right channel stayed silent for "
                       << milliseconds_for(captured - play_frame) << " ms after 'play 1'";
  EXPECT_LE(*back_at - play_frame, frames_for(500ms))
      << "the right channel came back " << milliseconds_for(*back_at - play_frame)
      << " ms after 'play 1'";
  const std::uint64_t level_from = std::min(*back_at + frames_for(20ms), captured);
  const std::uint64_t level_to = std::min(level_from + frames_for(100ms), captured);
  EXPECT_GT(rms(*capture_, 1, level_from, level_to), kPlaying)
      << "the right channel came back but does not play at its level";
  EXPECT_GT(rms(*capture_, 0, play_frame, captured), kPlaying)
      << "the left channel (worker 0) stopped when worker 1 came back";
}

// ---------------------------------------------------------------------------------------------
// What synthfarm's own JACK client shows the graph: its connections, its latency, the server's
// xruns, and how it meets a change of the server's period.

// The values of a status line's `keys` (each "key=<integer>"), from the first "status:" line
// newer than the `seen` ones; writes "status" to the FIFO first. nullopt on timeout, with a
// failure recorded.
std::optional<std::vector<std::uint64_t>> status_values(ChildProcess& child,
                                                        const std::string& fifo,
                                                        const std::vector<std::string>& keys) {
  const std::regex line(R"((?:^|\n)status: [^\n]*)");
  const std::size_t seen = all_matches(child.stdout_text(), line).size();
  if (!write_control(fifo, "status\n")) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + kCommandTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = child.stdout_text();
    const auto lines = all_matches(text, line);
    if (lines.size() > seen) {
      const std::string found = lines[seen].str();
      std::vector<std::uint64_t> values;
      for (const std::string& key : keys) {
        std::smatch value;
        if (!std::regex_search(found, value, std::regex(" " + key + "=([0-9]+)"))) {
          ADD_FAILURE() << "no " << key << "= in the status line: " << found;
          return std::nullopt;
        }
        values.push_back(std::stoull(value[1].str()));
      }
      return values;
    }
    std::this_thread::sleep_for(10ms);
  }
  ADD_FAILURE() << "no status line within " << kCommandTimeout.count() << " s; stdout:\n"
                << child.stdout_text() << "stderr:\n"
                << child.stderr_text();
  return std::nullopt;
}

// A synthfarm run on the shared JACK server with one worker of 4 sines and `arguments`.
std::unique_ptr<ChildProcess> start_small_run(const RunResources& run, std::uint32_t rate_hz,
                                              const std::vector<std::string>& arguments) {
  std::vector<std::string> argv{testing::built_program("synthfarm"),
                                "--audio",
                                "jack",
                                "--name",
                                run.name,
                                "--control",
                                run.fifo,
                                "--workers",
                                "1",
                                "--sines",
                                "4",
                                "--sample-rate",
                                std::to_string(rate_hz)};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  return std::make_unique<ChildProcess>(argv);
}

// The ports are <client>:out_N, connected by default to the server's physical playback ports,
// and their playback latency is what JACK computed downstream plus synthfarm's own: the 2
// buffers its workers render ahead (jack_lsp -l shows the same numbers).
TEST_F(JackOutput, PortsAreNamedAfterTheClientAndCarrySynthfarmsLatencyIntoTheGraph) {
  std::string error;
  ASSERT_TRUE(capture_->start(kChannels, frames_for(100ms), error)) << error;
  RunResources run{testing::unique_instance_name("jacklat"), directory_.file("ctl"), {}};
  auto child = start_small_run(run, rate_hz_, {"--duration", "30"});
  run.worker_pids = wait_for_startup(*child, 1);
  ASSERT_EQ(run.worker_pids.size(), 1u);
  EXPECT_TRUE(child->wait_for_stdout(
      std::regex("output: JACK device 'system' as client '" + run.name + "'"), kCommandTimeout))
      << child->stdout_text();

  const std::uint32_t added = 2 * block_frames_;  // synthfarm's fill target
  const auto system_latency = capture_->playback_latency("system:playback_1");
  ASSERT_TRUE(system_latency) << "the server has no system:playback_1";
  std::vector<std::string> connected;
  std::optional<jack_latency_range_t> ours;
  const auto settled = [&] {
    return capture_->connections(run.name + ":out_2").size() == 1 && !connected.empty() && ours &&
           ours->max == system_latency->max + added;
  };
  const auto deadline = std::chrono::steady_clock::now() + kPortTimeout;
  // Connections (made one channel after the other) and latencies settle after the client
  // activates: poll until all are there.
  while (std::chrono::steady_clock::now() < deadline) {
    connected = capture_->connections(run.name + ":out_1");
    ours = capture_->playback_latency(run.name + ":out_1");
    if (settled()) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(capture_->output_ports_of(run.name),
            (std::vector<std::string>{run.name + ":out_1", run.name + ":out_2"}));
  EXPECT_EQ(connected, std::vector<std::string>{"system:playback_1"});
  EXPECT_EQ(capture_->connections(run.name + ":out_2"),
            std::vector<std::string>{"system:playback_2"});
  ASSERT_TRUE(ours);
  std::cout << "[ measured ] playback latency: system:playback_1 [" << system_latency->min << " "
            << system_latency->max << "], " << run.name << ":out_1 [" << ours->min << " "
            << ours->max << "] frames (" << block_frames_ << "-frame periods)\n";
  EXPECT_EQ(ours->min, system_latency->min + added);
  EXPECT_EQ(ours->max, system_latency->max + added)
      << "synthfarm's port should add its fill target, 2 buffers of " << block_frames_
      << " frames, to what the graph holds downstream";

  ASSERT_TRUE(write_control(run.fifo, "quit\n"));
  const auto code = child->wait_exit_code(kExitTimeout);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0) << child->stderr_text();
  expect_nothing_left_behind(run);
}

// --connect REGEX connects channel N to the Nth matching input port, and nothing else;
// --connect none connects nothing; a pattern that matches nothing is refused before anything
// plays, with the ports that exist.
TEST_F(JackOutput, ConnectChoosesThePortsAPatternMatchesOrNone) {
  std::string error;
  ASSERT_TRUE(capture_->start(kChannels, frames_for(100ms), error)) << error;
  const std::string own_ports =
      "^" + capture_->input_port_name(0).substr(0, capture_->input_port_name(0).find(':')) + ":in_";
  for (const std::string& choice : {own_ports, std::string("none")}) {
    SCOPED_TRACE("--connect " + choice);
    RunResources run{testing::unique_instance_name("jackconn"), directory_.file("ctl"), {}};
    auto child = start_small_run(run, rate_hz_, {"--duration", "30", "--connect", choice});
    run.worker_pids = wait_for_startup(*child, 1);
    ASSERT_EQ(run.worker_pids.size(), 1u);
    // The client is active and its connections made once the output thread is reported.
    ASSERT_TRUE(child->wait_for_stdout(std::regex("synthfarm: audio thread: "), kPortTimeout))
        << child->stdout_text() << child->stderr_text();
    for (std::uint32_t c = 0; c < kChannels; ++c) {
      const auto connected = capture_->connections(run.name + ":out_" + std::to_string(c + 1));
      if (choice == "none") {
        EXPECT_TRUE(connected.empty()) << connected.front();
      } else {
        EXPECT_EQ(connected, std::vector<std::string>{capture_->input_port_name(c)});
      }
    }
    ASSERT_TRUE(write_control(run.fifo, "quit\n"));
    const auto code = child->wait_exit_code(kExitTimeout);
    ASSERT_TRUE(code);
    EXPECT_EQ(*code, 0) << child->stderr_text();
    expect_nothing_left_behind(run);
  }

  RunResources run{testing::unique_instance_name("jacknoport"), directory_.file("ctl"), {}};
  auto child = start_small_run(run, rate_hz_, {"--duration", "30", "--connect", "^no-such:"});
  const auto code = child->wait_exit_code(kStartupTimeout);
  ASSERT_TRUE(code) << "synthfarm plays although --connect matches no port";
  EXPECT_EQ(*code, 1);
  EXPECT_NE(child->stderr_text().find("--connect '^no-such:': no JACK input port matches"),
            std::string::npos)
      << child->stderr_text();
  EXPECT_NE(child->stderr_text().find("system:playback_1"), std::string::npos)
      << "the message should name the ports that exist: " << child->stderr_text();
  expect_nothing_left_behind(run);
}

// A client that misses its cycle makes the server report an xrun to every client; synthfarm
// counts them (its xrun callback) in `status`, the final line and the --report file.
TEST_F(JackOutput, AnXrunInTheGraphIsCountedInStatusAndTheReport) {
  std::string error;
  ASSERT_TRUE(capture_->start(kChannels, frames_for(100ms), error)) << error;
  RunResources run{testing::unique_instance_name("jackxrun"), directory_.file("ctl"), {}};
  const std::string report = directory_.file("report.json");
  auto child = start_small_run(run, rate_hz_, {"--duration", "30", "--report", report});
  run.worker_pids = wait_for_startup(*child, 1);
  ASSERT_EQ(run.worker_pids.size(), 1u);
  ASSERT_TRUE(child->wait_for_stdout(std::regex("synthfarm: audio thread: "), kPortTimeout));

  // Ten periods late, once: a certain xrun.
  const std::uint32_t before = capture_->xruns();
  capture_->stall_next_cycle(std::chrono::microseconds(10'000'000LL * block_frames_ / rate_hz_));
  const auto deadline = std::chrono::steady_clock::now() + kCommandTimeout;
  while (capture_->xruns() == before && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_GT(capture_->xruns(), before) << "the stalled cycle caused no xrun";
  std::optional<std::vector<std::uint64_t>> status;
  // The server tells its clients one after another: wait for synthfarm's count too.
  do {
    status = status_values(*child, run.fifo, {"server_xruns"});
    ASSERT_TRUE(status);
  } while ((*status)[0] == 0 && std::chrono::steady_clock::now() < deadline + kCommandTimeout);
  std::cout << "[ measured ] xruns seen by the test's client " << capture_->xruns()
            << ", by synthfarm " << (*status)[0] << "\n";
  EXPECT_GE((*status)[0], 1u) << "synthfarm's status counts no xrun after one in the graph";

  ASSERT_TRUE(write_control(run.fifo, "quit\n"));
  const auto code = child->wait_exit_code(kExitTimeout);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0) << child->stderr_text();
  std::smatch final_line;
  const std::string out = child->stdout_text();
  ASSERT_TRUE(std::regex_search(out, final_line, std::regex(R"(final: .* server_xruns=(\d+) )")))
      << out;
  const std::uint64_t final_xruns = std::stoull(final_line[1].str());
  EXPECT_GE(final_xruns, (*status)[0]);
  std::ifstream file(report);
  const std::string json((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  EXPECT_NE(json.find("\"server_xruns\": " + std::to_string(final_xruns)), std::string::npos)
      << "the report should hold the final count, " << final_xruns << ":\n"
      << json;
  expect_nothing_left_behind(run);
}

// The server's period changes while synthfarm plays. Smaller: synthfarm follows it (every
// callback then mixes the new size; its workers keep rendering their blocks ahead). Larger:
// its workers' blocks and fill target no longer cover a period, so the run ends, exit 1, with
// a message that says so and what to do.
TEST_F(JackOutput, FollowsASmallerServerBufferAndEndsWithAMessageOnALargerOne) {
  std::string error;
  ASSERT_TRUE(capture_->start(kChannels, frames_for(100ms), error)) << error;
  // The server is shared with the other tests: its period is put back whatever happens.
  struct RestorePeriod {
    JackCapture& capture;
    std::uint32_t frames;
    ~RestorePeriod() { capture.set_server_buffer_frames(frames); }
  } restore{*capture_, block_frames_};
  RunResources run{testing::unique_instance_name("jackbuf"), directory_.file("ctl"), {}};
  auto child = start_small_run(run, rate_hz_, {"--duration", "60"});
  run.worker_pids = wait_for_startup(*child, 1);
  ASSERT_EQ(run.worker_pids.size(), 1u);
  ASSERT_TRUE(child->wait_for_stdout(std::regex("synthfarm: audio thread: "), kPortTimeout));

  const std::uint32_t smaller = block_frames_ / 2;
  ASSERT_TRUE(capture_->set_server_buffer_frames(smaller));
  ASSERT_EQ(capture_->buffer_frames(), smaller);
  // Frames per callback between two readings, both taken after the change: exactly the new
  // period (no clock involved).
  const auto first = status_values(*child, run.fifo, {"timeline_frames", "callbacks"});
  ASSERT_TRUE(first);
  std::this_thread::sleep_for(300ms);
  const auto second = status_values(*child, run.fifo, {"timeline_frames", "callbacks"});
  ASSERT_TRUE(second);
  ASSERT_GT((*second)[1], (*first)[1]) << "synthfarm stopped playing at " << smaller << " frames";
  EXPECT_EQ(((*second)[0] - (*first)[0]) / ((*second)[1] - (*first)[1]), smaller)
      << "frames per callback after the server went to " << smaller << "-frame periods";
  EXPECT_EQ(((*second)[0] - (*first)[0]) % ((*second)[1] - (*first)[1]), 0u);
  EXPECT_FALSE(child->wait_exit_code(0ms)) << child->stderr_text();

  const std::uint32_t larger = block_frames_ * 2;
  ASSERT_TRUE(capture_->set_server_buffer_frames(larger));
  const auto code = child->wait_exit_code(kExitTimeout);
  ASSERT_TRUE(code) << "synthfarm still runs after the server went to " << larger
                    << "-frame periods";
  EXPECT_EQ(*code, 1);
  const std::string err = child->stderr_text();
  EXPECT_NE(err.find("synthfarm: the JACK server changed its buffer to " + std::to_string(larger) +
                     " frames while synthfarm played; synthfarm follows buffers up to the " +
                     std::to_string(block_frames_) + " frames it started with"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("start synthfarm again to play at " + std::to_string(larger)),
            std::string::npos)
      << err;
  expect_nothing_left_behind(run);
}

}  // namespace
}  // namespace synthfarm
