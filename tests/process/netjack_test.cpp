// More machines through netjack2, on one machine over loopback: a master JACK server (dummy
// backend, netmanager loaded), a slave server driven by it (jackd -d net), synthfarm playing on
// the slave. What the master receives from the slave must be the offline render of the same
// seed, period by period, after the network's latency.
//
// Two captures, because one process can be the client of only one JACK server: this process
// records on the master (the slave's ports as they appear there), a forked child records on the
// slave (synthfarm's ports), each with the start time of every cycle (jack_get_cycle_times, the
// same monotonic clock for both servers on one machine). The latency is the time between a
// timeline position leaving synthfarm on the slave and arriving on the master, in periods.
//
// Tolerances, and why. netjack2 on a loaded VM can repeat or skip a whole period (never part of
// one): such a jump is allowed anywhere (TimelineComparison is told every cycle may have had an
// xrun); what must hold is that no block is anything but the render (or silence, an underrun),
// and that long stretches arrive exactly. 1024-frame periods, as netjack2 needs on such a VM.
//
// Servers: fixed names (sfnj-master, sfnj-slave) so that a run killed half-way leaves nothing a
// later run does not reclaim; a free UDP port from the kernel; teardown in netjack2's order
// (clients, slave, `jack_unload netmanager`, master), every server stopped with SIGTERM, never
// SIGKILL (a killed server keeps one of the 8 slots of /dev/shm/jack-shm-registry).

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <jack/jack.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <new>
#include <optional>
#include <regex>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/jack_ports.h"
#include "tests/support/temp_dir.h"
#include "tests/support/timeline_comparison.h"
#include "tests/support/wav_file.h"

namespace synthfarm {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::FrameView;
using testing::TempDir;
using testing::TimelineComparison;
using Clock = std::chrono::steady_clock;

constexpr const char* kMaster = "sfnj-master";
constexpr const char* kSlave = "sfnj-slave";
constexpr const char* kSlaveName = "sfslave";  // the slave's client name in the master's graph
constexpr const char* kInstance = "sfnjplay";  // synthfarm's instance, hence its JACK client
constexpr std::uint32_t kRate = 48000;
constexpr std::uint32_t kPeriod = 1024;
constexpr std::uint32_t kNetLatency = 2;  // jackd -d net -l: periods of network latency
constexpr std::uint32_t kChannels = 2;
constexpr std::uint64_t kSeed = 11;
constexpr double kRunSeconds = 6.0;
constexpr std::uint64_t kCaptureFrames = 8 * kRate;  // longer than the run: it ends inside
constexpr std::uint64_t kCaptureCycles = kCaptureFrames / kPeriod;

std::string find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream directories(path ? path : "");
  std::string directory;
  while (std::getline(directories, directory, ':')) {
    const std::filesystem::path candidate = std::filesystem::path(directory) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

// A UDP port on 127.0.0.1 that nothing holds now (the kernel's choice).
std::optional<std::uint16_t> free_udp_port() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  std::optional<std::uint16_t> port;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

// One side's recording: every cycle's start time and its two input ports, from the moment the
// capture client became active. Lives in memory shared with a forked child when the child
// records. Written by one process thread, read once the writer has stopped.
struct Recording {
  std::atomic<std::uint64_t> cycles{0};
  std::atomic<bool> stop{false};  // the parent tells the child recorder to end
  std::atomic<int> connected{
      -1};  // the child: 1 once it is connected to synthfarm's ports, 0 if not
  std::uint64_t cycle_usecs[kCaptureCycles];
  float samples[kCaptureFrames * kChannels];  // interleaved
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

// A JACK client on `server` that records its two input ports into `recording`, cycle by cycle.
class Recorder {
 public:
  // Opens the client (never starting a server), registers its ports and activates it.
  static std::unique_ptr<Recorder> open(const std::string& server, const std::string& name,
                                        Recording& recording, std::string& error) {
    jack_set_error_function([](const char*) {});
    jack_set_info_function([](const char*) {});
    jack_status_t status{};
    jack_client_t* client = jack_client_open(
        name.c_str(), static_cast<jack_options_t>(JackNoStartServer | JackServerName), &status,
        server.c_str());
    if (!client) {
      error = "cannot open a client on JACK server '" + server + "'";
      return nullptr;
    }
    std::unique_ptr<Recorder> recorder(new Recorder(client, recording));
    for (std::uint32_t c = 0; c < kChannels; ++c) {
      const std::string port = "in_" + std::to_string(c + 1);
      recorder->ports_.push_back(
          jack_port_register(client, port.c_str(), JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0));
    }
    if (jack_get_buffer_size(client) != kPeriod ||
        jack_set_process_callback(client, &Recorder::process, recorder.get()) != 0 ||
        jack_activate(client) != 0) {
      error = "cannot start recording on '" + server + "' (its period is " +
              std::to_string(jack_get_buffer_size(client)) + ", not " + std::to_string(kPeriod) +
              ")";
      return nullptr;
    }
    return recorder;
  }
  ~Recorder() {
    jack_deactivate(client_);
    jack_client_close(client_);
  }

  // Connects `sources[c]` to input c; false until every source exists and accepts.
  bool connect_from(const std::vector<std::string>& sources) {
    for (std::size_t c = 0; c < sources.size() && c < ports_.size(); ++c) {
      const int result = jack_connect(client_, sources[c].c_str(), jack_port_name(ports_[c]));
      if (result != 0 && result != EEXIST) return false;
    }
    return true;
  }

 private:
  Recorder(jack_client_t* client, Recording& recording) : client_(client), recording_(recording) {}

  // Thread: JACK's process thread. RT-safe: copies into the preallocated recording.
  static int process(jack_nframes_t frames, void* arg) noexcept {
    auto* self = static_cast<Recorder*>(arg);
    Recording& out = self->recording_;
    const std::uint64_t cycle = out.cycles.load(std::memory_order_relaxed);  // only writer
    if (cycle >= kCaptureCycles || frames != kPeriod) return 0;
    jack_nframes_t current_frames = 0;
    jack_time_t current_usecs = 0, next_usecs = 0;
    float period_usecs = 0;
    jack_get_cycle_times(self->client_, &current_frames, &current_usecs, &next_usecs,
                         &period_usecs);
    out.cycle_usecs[cycle] = current_usecs;
    for (std::uint32_t c = 0; c < kChannels; ++c) {
      const auto* in = static_cast<const float*>(jack_port_get_buffer(self->ports_[c], frames));
      for (jack_nframes_t n = 0; n < frames; ++n) {
        out.samples[(cycle * kPeriod + n) * kChannels + c] = in[n];
      }
    }
    // Release after the data: pairs with the reader's acquire.
    out.cycles.store(cycle + 1, std::memory_order_release);
    return 0;
  }

  jack_client_t* client_;
  Recording& recording_;
  std::vector<jack_port_t*> ports_;
};

// Where a timeline position sits in a recording, once aligned by TimelineComparison.
struct Alignment {
  std::uint64_t capture_frame;
  std::uint64_t position;
};

// The longest run of blocks that arrived one after the other without a jump, in frames.
std::uint64_t longest_exact_stretch(const TimelineComparison& comparison) {
  std::uint64_t longest = 0;
  std::uint64_t from = comparison.first_capture_frame();
  for (const auto& jump : comparison.jumps()) {
    longest = std::max(longest, jump.capture_frame - from);
    from = jump.capture_frame;
  }
  return std::max(longest, comparison.first_capture_frame() + comparison.compared_frames() - from);
}

class NetJack : public ::testing::Test {
 protected:
  void SetUp() override {
    jackd_ = find_on_path("jackd");
    jack_wait_ = find_on_path("jack_wait");
    jack_load_ = find_on_path("jack_load");
    jack_unload_ = find_on_path("jack_unload");
    if (jackd_.empty() || jack_wait_.empty() || jack_load_.empty() || jack_unload_.empty()) {
      const std::string error =
          "jackd, jack_wait, jack_load or jack_unload is not installed "
          "(Debian package jackd2)";
      const char* require = std::getenv("SYNTHFARM_REQUIRE_JACK");
      if (require && std::string(require) == "1") {
        FAIL() << error << "; SYNTHFARM_REQUIRE_JACK=1 makes this a failure";
      }
      GTEST_SKIP() << error << "; skipped (set SYNTHFARM_REQUIRE_JACK=1 to make this fail)";
    }
    // Shared with the forked slave-side recorder: mapped before the fork.
    void* memory = ::mmap(nullptr, 2 * sizeof(Recording), PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(memory, MAP_FAILED);
    master_recording_ = new (memory) Recording;
    slave_recording_ = new (static_cast<char*>(memory) + sizeof(Recording)) Recording;
  }

  void TearDown() override {
    // netjack2's order: clients, the slave, netmanager, the master. SIGTERM only.
    synthfarm_.reset();
    stop_slave_recorder();
    master_recorder_.reset();
    stop(slave_);
    // netmanager must have let the slave go before it is unloaded: unloaded with the slave's
    // client still closing, the master's shutdown waits on it (and jackd 1.9.21 was seen to
    // abort there, which leaves its registry slot taken).
    if (master_ && netmanager_loaded_) {
      const auto deadline = Clock::now() + 5s;
      while (Clock::now() < deadline) {
        ChildProcess list({find_on_path("jack_lsp"), "-s", kMaster}, environment());
        list.wait_exit_code(5s);
        if (list.stdout_text().find(std::string(kSlaveName) + ":") == std::string::npos) break;
        std::this_thread::sleep_for(50ms);
      }
    }
    if (master_ && netmanager_loaded_) {
      // jackd2 1.9.21's jack_unload takes the server as its second word (it has no -s): given
      // `-s NAME`, it printed its usage, unloaded nothing, and the master's shutdown then
      // waited some 6 s on netmanager.
      ChildProcess unload({jack_unload_, "netmanager", kMaster}, environment());
      EXPECT_EQ(unload.wait_exit_code(10s), 0) << unload.stdout_text() << unload.stderr_text();
      EXPECT_NE(unload.stdout_text().find("netmanager unloaded"), std::string::npos)
          << unload.stdout_text() << unload.stderr_text();
    }
    stop(master_);
    testing::remove_jack_server_leftovers(kMaster);
    testing::remove_jack_server_leftovers(kSlave);
    if (master_recording_) ::munmap(master_recording_, 2 * sizeof(Recording));
  }

  static std::vector<std::string> environment() {
    return {"JACK_NO_START_SERVER=1", "JACK_NO_AUDIO_RESERVATION=1"};
  }

  // SIGTERM, and a clean exit expected: a server that dies of a signal keeps its registry slot.
  static void stop(std::unique_ptr<ChildProcess>& server) {
    if (!server) return;
    server->send_signal(SIGTERM);
    const auto status = server->wait(15s);
    EXPECT_TRUE(status && WIFEXITED(*status))
        << "a JACK server did not stop cleanly on SIGTERM (wait status "
        << (status ? std::to_string(*status) : std::string("none within 15 s")) << "); output:\n"
        << server->stdout_text() << server->stderr_text();
    server.reset();
  }

  // Starts a jackd and waits until `jack_wait -c -s name` says it runs.
  std::unique_ptr<ChildProcess> start_server(const std::string& name,
                                             const std::vector<std::string>& driver) {
    std::vector<std::string> argv{jackd_, "--no-realtime", "--port-max", "128", "-n", name};
    argv.insert(argv.end(), driver.begin(), driver.end());
    auto server = std::make_unique<ChildProcess>(argv, environment());
    const auto deadline = Clock::now() + 10s;
    while (Clock::now() < deadline) {
      if (!testing::process_alive(server->pid())) break;
      ChildProcess check({jack_wait_, "-c", "-s", name}, environment());
      if (check.wait_exit_code(5s) && check.stdout_text() == "running\n") return server;
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "jackd '" << name << "' did not start; its output:\n"
                  << server->stdout_text() << server->stderr_text();
    server->send_signal(SIGTERM);
    server->wait(10s);
    return nullptr;
  }

  // Forks the slave-side recorder before this process opens any JACK client (libjack keeps one
  // server per process). It connects to synthfarm's ports once they appear and records until
  // told to stop. This process has threads by then (ChildProcess's readers); the child only
  // allocates (glibc's malloc is fork-safe) and calls libjack, and ends with _exit.
  void fork_slave_recorder() {
    slave_recorder_pid_ = ::fork();
    ASSERT_GE(slave_recorder_pid_, 0);
    if (slave_recorder_pid_ != 0) return;
    // The child: only JACK calls and waits, then _exit.
    std::string error;
    auto recorder = Recorder::open(kSlave, "sfnj-slaverec", *slave_recording_, error);
    if (!recorder) ::_exit(2);
    const std::vector<std::string> sources{std::string(kInstance) + ":out_1",
                                           std::string(kInstance) + ":out_2"};
    const auto deadline = Clock::now() + 30s;
    while (!recorder->connect_from(sources) && Clock::now() < deadline &&
           !slave_recording_->stop.load(std::memory_order_acquire)) {
      std::this_thread::sleep_for(2ms);
    }
    slave_recording_->connected.store(recorder->connect_from(sources) ? 1 : 0,
                                      std::memory_order_release);
    while (!slave_recording_->stop.load(std::memory_order_acquire) && Clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
    }
    recorder.reset();
    ::_exit(0);
  }

  void stop_slave_recorder() {
    if (slave_recorder_pid_ <= 0) return;
    slave_recording_->stop.store(true, std::memory_order_release);
    int status = 0;
    ::waitpid(slave_recorder_pid_, &status, 0);
    slave_recorder_pid_ = -1;
  }

  std::string jackd_, jack_wait_, jack_load_, jack_unload_;
  TempDir directory_;
  std::unique_ptr<ChildProcess> master_;
  std::unique_ptr<ChildProcess> slave_;
  std::unique_ptr<ChildProcess> synthfarm_;
  bool netmanager_loaded_ = false;
  Recording* master_recording_ = nullptr;
  Recording* slave_recording_ = nullptr;
  pid_t slave_recorder_pid_ = -1;
  std::unique_ptr<Recorder> master_recorder_;
};

TEST_F(NetJack, TheMasterReceivesTheSlavesSynthfarmPeriodByPeriodAfterTheNetworkLatency) {
  master_ = start_server(
      kMaster, {"-d", "dummy", "-r", std::to_string(kRate), "-p", std::to_string(kPeriod)});
  ASSERT_TRUE(master_);
  const auto port = free_udp_port();
  ASSERT_TRUE(port) << "no free UDP port on 127.0.0.1";
  {
    ChildProcess load(
        {jack_load_, "-s", kMaster, "netmanager", "-i", "-a 127.0.0.1 -p " + std::to_string(*port)},
        environment());
    ASSERT_TRUE(load.wait_exit_code(10s));
    netmanager_loaded_ = true;
  }
  // jack_load exits 0 even when netmanager could not bind: its word is in the master's log.
  ASSERT_TRUE(master_->wait_for_stdout(std::regex("Listening on"), 5s))
      << "netmanager does not listen on 127.0.0.1:" << *port << "; master's output:\n"
      << master_->stdout_text() << master_->stderr_text();
  slave_ = start_server(kSlave, {"-d", "net", "-a", "127.0.0.1", "-p", std::to_string(*port), "-n",
                                 kSlaveName, "-l", std::to_string(kNetLatency)});
  ASSERT_TRUE(slave_);

  fork_slave_recorder();
  std::string error;
  master_recorder_ = Recorder::open(kMaster, "sfnj-masterrec", *master_recording_, error);
  ASSERT_TRUE(master_recorder_) << error;
  const std::vector<std::string> from_slave{std::string(kSlaveName) + ":from_slave_1",
                                            std::string(kSlaveName) + ":from_slave_2"};
  auto deadline = Clock::now() + 10s;
  while (!master_recorder_->connect_from(from_slave) && Clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(master_recorder_->connect_from(from_slave))
      << "the slave's ports did not appear in the master's graph within 10 s; slave's output:\n"
      << slave_->stdout_text() << slave_->stderr_text();

  // synthfarm on the slave, connected (by default) to the slave's physical playback ports,
  // which netjack2 sends to the master.
  synthfarm_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{testing::built_program("synthfarm"), "--audio", "jack", "--name",
                               kInstance, "--control", directory_.file("ctl"), "--workers", "2",
                               "--sines", "20", "--seed", std::to_string(kSeed), "--sample-rate",
                               std::to_string(kRate), "--duration", std::to_string(kRunSeconds),
                               "--quiet"},
      std::vector<std::string>{"JACK_DEFAULT_SERVER=" + std::string(kSlave)});
  const auto code = synthfarm_->wait_exit_code(std::chrono::seconds(30));
  ASSERT_TRUE(code) << "synthfarm did not end its " << kRunSeconds << " s run on the slave";
  EXPECT_EQ(*code, 0) << synthfarm_->stderr_text();
  EXPECT_NE(synthfarm_->stdout_text().find("output: JACK device 'system' as client '" +
                                           std::string(kInstance) + "' on server '" + kSlave +
                                           "', " + std::to_string(kRate) + " Hz, " +
                                           std::to_string(kPeriod) + " frames per buffer"),
            std::string::npos)
      << synthfarm_->stdout_text();
  stop_slave_recorder();
  ASSERT_EQ(slave_recording_->connected.load(std::memory_order_acquire), 1)
      << "the slave-side recorder could not connect to synthfarm's ports";
  master_recorder_.reset();  // stops the master-side recording

  // The reference: the same seed rendered offline.
  const std::string reference = directory_.file("reference.wav");
  ChildProcess render({testing::built_program("synthfarm"), "--name", "sfnjref", "--control",
                       directory_.file("refctl"), "--workers", "2", "--sines", "20", "--seed",
                       std::to_string(kSeed), "--sample-rate", std::to_string(kRate), "--output",
                       reference, "--duration", std::to_string(kRunSeconds + 1)});
  ASSERT_EQ(render.wait_exit_code(60s), 0) << render.stderr_text();
  const auto full = testing::read_wav(reference, error);
  ASSERT_TRUE(full) << error;
  const FrameView full_view{full->samples, full->channels};

  const auto compare = [&](const Recording& recording) {
    const std::uint64_t cycles = recording.cycles.load(std::memory_order_acquire);
    TimelineComparison::Input input;
    input.capture = {std::span<const float>(recording.samples, cycles * kPeriod * kChannels),
                     kChannels};
    // netjack2 may repeat or skip a whole period anywhere: every cycle counts as an xrun.
    for (std::uint64_t cycle = 0; cycle <= cycles; ++cycle) {
      input.xrun_frames.push_back(cycle * kPeriod);
    }
    input.full = full_view;
    input.block_frames = kPeriod;
    input.run_frames = static_cast<std::uint64_t>(kRunSeconds * kRate);
    return std::make_unique<TimelineComparison>(std::move(input));
  };
  const auto on_slave = compare(*slave_recording_);
  const auto on_master = compare(*master_recording_);
  const std::string slave_summary = on_slave->describe(kRate);
  const std::string master_summary = on_master->describe(kRate);
  ASSERT_TRUE(on_slave->found()) << "synthfarm's output on the slave is not the render: "
                                 << slave_summary;
  ASSERT_TRUE(on_master->found()) << "nothing the master received is the render: "
                                  << master_summary;

  // Latency: the cycle that carried the master's first aligned block, against the slave cycle
  // that carried the same timeline position out of synthfarm (the slave's own alignment,
  // walked forward by whole periods).
  const std::uint64_t position = on_master->first_position();
  ASSERT_GE(position, on_slave->first_position());
  const std::uint64_t slave_frame =
      on_slave->first_capture_frame() + (position - on_slave->first_position());
  ASSERT_LT(slave_frame + kPeriod, slave_recording_->cycles.load() * kPeriod);
  // The walk holds only if the slave's recording did not jump in between: check the block.
  for (std::uint64_t n = 0; n < kPeriod; ++n) {
    for (std::uint32_t c = 0; c < kChannels; ++c) {
      ASSERT_EQ(slave_recording_->samples[(slave_frame + n) * kChannels + c],
                full->at(position + n, c))
          << "the slave's recording jumped between its first aligned block and timeline frame "
          << position << ": no latency measured; " << slave_summary;
    }
  }
  const double master_usecs = static_cast<double>(
      master_recording_->cycle_usecs[on_master->first_capture_frame() / kPeriod]);
  const double slave_usecs =
      static_cast<double>(slave_recording_->cycle_usecs[slave_frame / kPeriod]);
  const double period_usecs = 1e6 * kPeriod / kRate;
  const double latency_periods = (master_usecs - slave_usecs) / period_usecs;
  const auto whole_periods = static_cast<std::int64_t>(std::llround(latency_periods));

  const std::uint64_t stretch = longest_exact_stretch(*on_master);
  std::cout << "[ measured ] netjack2 slave -> master latency " << latency_periods
            << " periods = " << whole_periods * kPeriod << " frames (" << kPeriod
            << "-frame periods, -l " << kNetLatency << "); master: " << master_summary
            << "; longest exact stretch " << stretch << " frames ("
            << static_cast<double>(stretch) / kRate << " s), " << on_master->jumps().size()
            << " whole-period discontinuities\n";
  std::cout << "[ measured ] slave: " << slave_summary << "\n";

  EXPECT_EQ(on_master->wrong_frames(), 0u)
      << "the master received frames that are not the render at any whole-period offset: "
      << master_summary;
  EXPECT_GE(on_master->compared_frames(), static_cast<std::uint64_t>(4 * kRate))
      << "less than 4 s of the master's recording lines up with the render: " << master_summary;
  EXPECT_GE(stretch, static_cast<std::uint64_t>(2 * kRate))
      << "no 2 s stretch arrived on the master without a discontinuity: " << master_summary;
  EXPECT_GE(on_master->outside().full, on_master->outside().total() * 9 / 10)
      << "fewer than 90% of the compared frames are the full sum (underruns): " << master_summary;
  EXPECT_GE(whole_periods, 1) << "the master received audio before the slave played it?";
  EXPECT_LE(whole_periods, static_cast<std::int64_t>(kNetLatency) + 2)
      << "more latency than netjack2's -l " << kNetLatency << " accounts for";
}

}  // namespace
}  // namespace synthfarm
