// Failures and recovery of the real executables, run as a user runs them: a worker that hangs,
// a coordinator killed with SIGKILL, the stopping signals (also during an offline render),
// several instances side by side, and workers that cannot start. Each test checks that nothing
// is left behind: no process, no /dev/shm entry, no FIFO. (A worker killed while playing is
// worker_failure_test.cpp's.)
//
// The time limits asserted here (1 s, 2 s) are the product's stated requirements, not
// benchmarks; each test prints what it measured ("[ measured ]") so a run can be reported.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sndfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/machine_stall.h"
#include "tests/support/synthfarm_run.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wav_file.h"

namespace synthfarm {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::ChildProcess;
using testing::CpuPressure;
using testing::MachineStall;
using testing::RunQueueWait;
using testing::SynthfarmRun;
using testing::TempDir;

// The workload of every real-time test: small, so the machine's load never makes a healthy
// worker late, yet several workers so "the others" exist.
constexpr std::size_t kWorkers = 3;
const std::vector<std::string> kSmallWorkload{"--audio", "null", "--workers", "3", "--sines", "50"};

// SynthfarmRun(test_name) runs its instance under this name (it does not expose it).
std::string instance_name(const std::string& test_name) {
  return testing::unique_instance_name(test_name);
}

std::string segment_name(const std::string& instance, pid_t coordinator) {
  return "synthfarm-" + instance + "-" + std::to_string(coordinator);
}

double milliseconds_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Expects `elapsed_ms` under `limit_ms`, unless the machine's CPU pressure since `pressure` was
// constructed covers the excess (the processes that had to act are gone by now).
void expect_within(double elapsed_ms, double limit_ms, const CpuPressure& pressure,
                   const std::string& what, MachineStall& stall) {
  using Ms = std::chrono::duration<double, std::milli>;
  testing::expect_within(std::chrono::duration_cast<std::chrono::nanoseconds>(Ms(elapsed_ms)),
                         std::chrono::duration_cast<std::chrono::nanoseconds>(Ms(limit_ms)),
                         pressure, what, stall);
}

// Expects a healthy worker to have had no underrun, unless the run's threads (the coordinator's
// and the healthy workers') waited for a CPU at least one buffer's time, or a CPU itself stalled
// that long (`hidden`): less cannot make a healthy worker late.
void expect_no_underrun(const RunQueueWait& wait, const testing::HiddenStalls& hidden,
                        std::size_t worker, std::uint64_t underrun_frames, MachineStall& stall) {
  const std::string fact = "healthy worker " + std::to_string(worker) + " had " +
                           std::to_string(underrun_frames) + " underrun frames";
  const bool excused =
      underrun_frames > 0 && (testing::excused_by(wait, testing::kOnePeriod, fact, stall) ||
                              testing::excused_by(hidden, testing::kOnePeriod, fact, stall));
  if (!excused) {
    EXPECT_EQ(underrun_frames, 0u) << "worker " << worker;
  }
}

// One line per measurement, collected from the test log for the report.
void report_measurement(const std::string& what, double value, const char* unit) {
  std::printf("[ measured ] %s: %.1f %s\n", what.c_str(), value, unit);
  std::fflush(stdout);
}

struct WorkerStatus {
  std::string state;
  pid_t pid = 0;
  std::uint64_t rendered_frames = 0;
  std::uint64_t underrun_frames = 0;
  std::uint64_t late_blocks = 0;
  std::uint64_t discarded_frames = 0;
};

// One answer to the control FIFO's `status` command.
struct Status {
  std::uint64_t timeline_frames = 0;
  std::uint64_t callbacks = 0;
  std::vector<WorkerStatus> workers;
};

// Parses a complete status report (the summary line and one line per worker) out of `text`,
// or returns nullopt while it is incomplete.
std::optional<Status> parse_status(const std::string& text, std::size_t worker_count) {
  static const std::regex summary(
      "status: seconds=[0-9.]+ timeline_frames=([0-9]+) callbacks=([0-9]+) [^\n]*\n");
  static const std::regex worker_line(
      "status worker ([0-9]+): state=(\\w+) pid=([0-9]+) oscillators=[0-9]+ "
      "rendered_frames=([0-9]+) underrun_frames=([0-9]+) late_blocks=([0-9]+) "
      "discarded_frames=([0-9]+) render_load=[^\n]*\n");
  std::smatch match;
  if (!std::regex_search(text, match, summary)) return std::nullopt;
  Status status;
  status.timeline_frames = std::stoull(match[1]);
  status.callbacks = std::stoull(match[2]);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), worker_line);
       it != std::sregex_iterator(); ++it) {
    const std::smatch& line = *it;
    WorkerStatus worker;
    worker.state = line[2];
    worker.pid = std::stoi(line[3]);
    worker.rendered_frames = std::stoull(line[4]);
    worker.underrun_frames = std::stoull(line[5]);
    worker.late_blocks = std::stoull(line[6]);
    worker.discarded_frames = std::stoull(line[7]);
    status.workers.push_back(worker);
  }
  if (status.workers.size() < worker_count) return std::nullopt;
  status.workers.resize(worker_count);
  return status;
}

// Sends `status` and returns the report printed after it (stdout holds every earlier one).
std::optional<Status> request_status(SynthfarmRun& run, std::size_t worker_count = kWorkers) {
  const std::size_t earlier = run.process().stdout_text().size();
  run.send_command("status");
  const auto deadline = Clock::now() + 5s;
  while (Clock::now() < deadline) {
    if (auto parsed = parse_status(run.process().stdout_text().substr(earlier), worker_count)) {
      return parsed;
    }
    std::this_thread::sleep_for(5ms);
  }
  return std::nullopt;
}

// Waits until the run is playing (its clock has called the mixer) and returns that status.
Status wait_until_playing(SynthfarmRun& run) {
  const auto deadline = Clock::now() + 5s;
  while (Clock::now() < deadline) {
    const auto status = request_status(run);
    if (status && status->callbacks > 0) return *status;
    std::this_thread::sleep_for(20ms);
  }
  ADD_FAILURE() << "no callbacks within 5 s; stdout: " << run.process().stdout_text();
  return {};
}

bool path_exists(const std::string& path) {
  struct stat status {};
  return lstat(path.c_str(), &status) == 0;
}

bool is_fifo(const std::string& path) {
  struct stat status {};
  return lstat(path.c_str(), &status) == 0 && S_ISFIFO(status.st_mode);
}

// Live processes whose command line mentions `text` (a directory a test ran programs from):
// finds a leftover worker even when its pid was never printed.
std::vector<pid_t> processes_mentioning(const std::string& text) {
  std::vector<pid_t> found;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream file(entry.path() / "cmdline", std::ios::binary);
    const std::string command_line((std::istreambuf_iterator<char>(file)),
                                   std::istreambuf_iterator<char>());
    const pid_t pid = std::stoi(name);
    if (command_line.find(text) != std::string::npos && testing::process_alive(pid)) {
      found.push_back(pid);
    }
  }
  return found;
}

// True if `pid` maps a shared-memory object of this name (its name is unlinked once the
// workers attach, so the mapping is the only trace of a running instance's segment).
bool maps_segment(pid_t pid, const std::string& name) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  const std::string text((std::istreambuf_iterator<char>(maps)), std::istreambuf_iterator<char>());
  return text.find("/dev/shm/" + name) != std::string::npos;
}

// A pid that belonged to a process that has exited and been reaped: a dead instance's pid.
pid_t dead_pid() {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  return child;
}

// A file in /dev/shm named like a segment of instance `instance` owned by `owner`, removed when
// the test ends if the product has not removed it.
class FakeSegment {
 public:
  FakeSegment(const std::string& instance, pid_t owner) : name_(segment_name(instance, owner)) {
    std::ofstream("/dev/shm/" + name_) << "not a synthfarm segment";
  }
  ~FakeSegment() {
    std::error_code ignored;  // already removed (by the product) is the expected case
    std::filesystem::remove("/dev/shm/" + name_, ignored);
  }
  FakeSegment(const FakeSegment&) = delete;
  FakeSegment& operator=(const FakeSegment&) = delete;
  const std::string& name() const { return name_; }
  bool exists() const { return path_exists("/dev/shm/" + name_); }

 private:
  std::string name_;
};

// --- A worker that hangs while playing.

// Issue item 2: the callback never waits for a worker. A stopped (SIGSTOP) worker is played as
// silence, counted against it alone; when it resumes its late frames are dropped, not played,
// so it rejoins the common timeline.
TEST(HungWorker, NeverBlocksTheCallbackAndRejoinsTheTimelineWithoutStaleAudio) {
  testing::retry_while_machine_stalled(testing::kTimingAttempts, [](MachineStall& stall) {
    const testing::HiddenStalls hidden;  // from before the run: the CPUs' own stalls
    SynthfarmRun run("hangworker");
    run.start(kSmallWorkload);
    const auto workers = run.wait_for_workers(kWorkers);
    ASSERT_EQ(workers.size(), kWorkers);
    wait_until_playing(run);

    const auto hang_start = request_status(run);
    ASSERT_TRUE(hang_start);
    // What can excuse a timing miss: the coordinator's wait for a CPU (the callback rate), and
    // with the healthy workers' over the whole run (their underruns).
    const RunQueueWait coordinator_wait({run.process().pid()});
    const auto healthy_wait = [&] {
      return RunQueueWait::over_whole_life({run.process().pid(), workers[0], workers[2]});
    };
    ASSERT_EQ(kill(workers[1], SIGSTOP), 0);
    const auto stopped_at = Clock::now();
    std::this_thread::sleep_for(1s);
    const auto hang_middle = request_status(run);
    std::this_thread::sleep_until(stopped_at + 2s);
    const auto hang_end = request_status(run);
    const double hang_ms = milliseconds_since(stopped_at);
    ASSERT_EQ(kill(workers[1], SIGCONT), 0);
    const auto resumed_at = Clock::now();
    ASSERT_TRUE(hang_middle && hang_end);

    // Never blocked: the callbacks went on through the hang, at a real-time pace. Nominal rate
    // 48000 / 256 = 187.5 per second; a callback waiting on the hung worker would stall near 0,
    // so a quarter of the nominal count is a margin for a loaded machine, not a speed test.
    const std::uint64_t hang_callbacks = hang_end->callbacks - hang_start->callbacks;
    report_measurement("callbacks during the " + std::to_string(static_cast<int>(hang_ms)) +
                           " ms hang (nominal 187.5/s)",
                       static_cast<double>(hang_callbacks), "callbacks");
    EXPECT_GT(hang_middle->callbacks, hang_start->callbacks);
    EXPECT_GT(hang_end->callbacks, hang_middle->callbacks);
    const double least_callbacks = 0.25 * 187.5 * hang_ms / 1000.0;
    const bool excused =
        static_cast<double>(hang_callbacks) < least_callbacks &&
        testing::excused_by(coordinator_wait,
                            static_cast<std::int64_t>(
                                std::ceil(least_callbacks - static_cast<double>(hang_callbacks))) *
                                testing::kOnePeriod,
                            std::to_string(hang_callbacks) + " callbacks during the hang", stall);
    if (!excused) {
      EXPECT_GE(static_cast<double>(hang_callbacks), least_callbacks);
    }

    // Underruns for the hung worker only.
    report_measurement("underrun frames of the hung worker during the hang",
                       static_cast<double>(hang_end->workers[1].underrun_frames), "frames");
    EXPECT_GT(hang_end->workers[1].underrun_frames, hang_start->workers[1].underrun_frames);
    EXPECT_EQ(hang_end->workers[1].rendered_frames, hang_middle->workers[1].rendered_frames)
        << "a stopped process rendered";
    for (std::size_t w : {0u, 2u}) {
      report_measurement("underrun frames of healthy worker " + std::to_string(w),
                         static_cast<double>(hang_end->workers[w].underrun_frames), "frames");
      expect_no_underrun(healthy_wait(), hidden, w, hang_end->workers[w].underrun_frames, stall);
    }

    // Resumed: it renders again, and it is back on the timeline once every frame it owed has been
    // dropped (underrun == discarded: each silent frame's late twin was discarded, never played)
    // and it is not behind the timeline. Back means staying back: two reports 100 ms apart, the
    // second with no new underrun (one report could catch a moment of a catch-up still going on).
    const auto on_time = [](const Status& status) {
      const WorkerStatus& worker = status.workers[1];
      return worker.underrun_frames == worker.discarded_frames &&
             worker.rendered_frames >= status.timeline_frames;
    };
    std::optional<Status> rejoined;
    std::optional<Status> confirmed;
    double rejoin_ms = 0.0;
    while (!confirmed && Clock::now() < resumed_at + 10s) {
      const auto current = request_status(run);
      ASSERT_TRUE(current);
      if (!on_time(*current)) {
        rejoined.reset();
      } else if (rejoined &&
                 current->workers[1].underrun_frames == rejoined->workers[1].underrun_frames) {
        confirmed = current;
      } else {
        rejoined = current;
        rejoin_ms = milliseconds_since(resumed_at);
      }
      std::this_thread::sleep_for(100ms);
    }
    ASSERT_TRUE(confirmed) << "the hung worker did not rejoin the timeline within 10 s of SIGCONT";
    const WorkerStatus& worker = rejoined->workers[1];
    report_measurement("SIGCONT to rejoining the timeline", rejoin_ms, "ms");
    report_measurement("discarded (late) frames of the hung worker",
                       static_cast<double>(worker.discarded_frames), "frames");
    report_measurement("underrun frames of the hung worker in all",
                       static_cast<double>(worker.underrun_frames), "frames");
    EXPECT_GT(worker.rendered_frames, hang_end->workers[1].rendered_frames);
    EXPECT_GT(worker.discarded_frames, 0u);
    // At most a ring (4 blocks of 256) ahead, plus a block: the report is not one atomic snapshot.
    EXPECT_LE(worker.rendered_frames, rejoined->timeline_frames + 5 * 256);
    EXPECT_GT(confirmed->workers[1].rendered_frames, worker.rendered_frames);
    for (std::size_t w : {0u, 2u}) {
      report_measurement("underrun frames of healthy worker " + std::to_string(w) + " in all",
                         static_cast<double>(confirmed->workers[w].underrun_frames), "frames");
      expect_no_underrun(healthy_wait(), hidden, w, confirmed->workers[w].underrun_frames, stall);
    }
    run.send_command("quit");
    run.expect_exit(0, workers);
  });
}

// --- The coordinator killed with SIGKILL, and the next start.

// Issue item 3: the workers die with their coordinator (parent-death signal), the segment's
// name was already unlinked, and only the FIFO is left, which the next start removes.
TEST(CoordinatorKilled, WorkersExitWithin1SAndTheNextStartRemovesTheStaleFifo) {
  testing::retry_while_machine_stalled(testing::kTimingAttempts, [](MachineStall& stall) {
    SynthfarmRun run("killcoordinator");
    run.start(kSmallWorkload);
    const auto workers = run.wait_for_workers(kWorkers);
    ASSERT_EQ(workers.size(), kWorkers);
    wait_until_playing(run);

    const CpuPressure pressure;
    const auto killed_at = Clock::now();
    run.process().send_signal(SIGKILL);
    ASSERT_EQ(run.process().wait_exit_code(5s), -SIGKILL);
    const auto all_gone = [&] {
      for (pid_t pid : workers) {
        if (testing::process_alive(pid)) return false;
      }
      return true;
    };
    while (!all_gone() && Clock::now() < killed_at + 5s) std::this_thread::sleep_for(2ms);
    const double workers_gone_ms = milliseconds_since(killed_at);
    report_measurement("kill -9 of the coordinator to every worker gone", workers_gone_ms, "ms");
    EXPECT_TRUE(all_gone());
    expect_within(workers_gone_ms, 1000.0, pressure,
                  "kill -9 of the coordinator to every worker gone", stall);
    EXPECT_TRUE(testing::shm_entries("synthfarm-" + instance_name("killcoordinator") + "-").empty())
        << "a SIGKILLed coordinator left shared memory";
    ASSERT_TRUE(is_fifo(run.control_path()))
        << "the FIFO of a SIGKILLed coordinator should still be there (nobody could remove it)";

    // The next start with the same name and FIFO path removes the stale FIFO, says so, and plays.
    run.start(kSmallWorkload);
    const auto notice = run.process().wait_for_stderr(std::regex("stale control FIFO"), 5s);
    ASSERT_TRUE(notice) << "stderr: " << run.process().stderr_text();
    EXPECT_NE(run.process().stderr_text().find(run.control_path()), std::string::npos)
        << "the notice does not name the FIFO: " << run.process().stderr_text();
    const auto new_workers = run.wait_for_workers(kWorkers);
    const Status status = wait_until_playing(run);
    for (const WorkerStatus& worker : status.workers) EXPECT_EQ(worker.state, "playing");
    run.send_command("quit");
    run.expect_exit(0, new_workers);
  });
}

// --- Stopping signals.

class StoppingSignal : public ::testing::TestWithParam<int> {};

// Issue item 4: each stopping signal fades out, stops the workers and exits 0 within 2 s,
// leaving nothing behind.
TEST_P(StoppingSignal, ExitsZeroWithin2SAndLeavesNothing) {
  const int signal = GetParam();
  testing::retry_while_machine_stalled(testing::kTimingAttempts, [signal](MachineStall& stall) {
    SynthfarmRun run(std::string("stopsignal") + sigabbrev_np(signal));
    run.start(kSmallWorkload);
    const auto workers = run.wait_for_workers(kWorkers);
    ASSERT_EQ(workers.size(), kWorkers);
    wait_until_playing(run);

    const CpuPressure pressure;
    const auto signalled_at = Clock::now();
    run.process().send_signal(signal);
    const auto exit_code = run.process().wait_exit_code(10s);
    const double exit_ms = milliseconds_since(signalled_at);
    ASSERT_TRUE(exit_code) << "no exit within 10 s";
    report_measurement(std::string("SIG") + sigabbrev_np(signal) + " to exit", exit_ms, "ms");
    expect_within(exit_ms, 2000.0, pressure, "the signal to the exit", stall);
    EXPECT_TRUE(run.process().wait_for_stdout(std::regex("received; stopping"), 1s));
    run.expect_exit(0, workers);  // reaped already: checks the code and that nothing is left
  });
}

INSTANTIATE_TEST_SUITE_P(IntTermHup, StoppingSignal, ::testing::Values(SIGINT, SIGTERM, SIGHUP),
                         [](const auto& param_info) {
                           return std::string(sigabbrev_np(param_info.param));
                         });

// Issue item 4: an offline render interrupted by SIGINT keeps what it rendered, in a valid WAV.
// 2 x 20,000 oscillators for 60 s take several seconds (about 10 on AVX-512), so the signal
// lands in the middle.
TEST(InterruptedOfflineRender, LeavesAValidWavHoldingWhatWasRendered) {
  testing::retry_while_machine_stalled(testing::kTimingAttempts, [](MachineStall& stall) {
    SynthfarmRun run("offlinesigint");
    const std::string output = run.file("out.wav");
    run.start({"--workers", "2", "--sines", "20000", "--seed", "7", "--output", output,
               "--duration", "60"});
    const auto workers = run.wait_for_workers(2);
    ASSERT_EQ(workers.size(), 2u);
    std::this_thread::sleep_for(1s);

    const CpuPressure pressure;
    const auto signalled_at = Clock::now();
    run.process().send_signal(SIGINT);
    const auto exit_code = run.process().wait_exit_code(10s);
    const double exit_ms = milliseconds_since(signalled_at);
    ASSERT_TRUE(exit_code) << "no exit within 10 s";
    report_measurement("SIGINT of an offline render to exit", exit_ms, "ms");
    expect_within(exit_ms, 2000.0, pressure, "SIGINT of an offline render to the exit", stall);
    run.expect_exit(0, workers);

    std::string error;
    const auto wav = testing::read_wav(output, error);
    ASSERT_TRUE(wav) << "not a readable sound file: " << error;
    EXPECT_EQ(wav->format & SF_FORMAT_TYPEMASK, SF_FORMAT_WAV);
    EXPECT_EQ(wav->format & SF_FORMAT_SUBMASK, SF_FORMAT_FLOAT);
    EXPECT_EQ(wav->channels, 2u);
    EXPECT_EQ(wav->sample_rate_hz, 48000u);
    report_measurement("frames in the interrupted render", static_cast<double>(wav->frames),
                       "frames");
    EXPECT_GT(wav->frames, 0u);
    EXPECT_LT(wav->frames, 60u * 48000u) << "the render finished before the signal";
    const std::vector<float>& samples = wav->samples;
    std::size_t nonfinite = 0;
    for (float sample : samples) nonfinite += std::isfinite(sample) ? 0 : 1;
    EXPECT_EQ(nonfinite, 0u);
    // The file holds exactly what the coordinator says it wrote.
    const auto wrote = run.process().wait_for_stdout(std::regex("wrote ([0-9]+) frames"), 1s);
    ASSERT_TRUE(wrote) << run.process().stdout_text();
    EXPECT_EQ(std::stoull((*wrote)[1]), wav->frames);
  });
}

// --- Several instances.

// Issue item 5: two names, two FIFOs, two segments, both playing.
TEST(SeveralInstances, TwoNamesRunSideBySideEachWithItsOwnFifoAndSegment) {
  SynthfarmRun first("sidebyside-a");
  SynthfarmRun second("sidebyside-b");
  first.start(kSmallWorkload);
  const auto first_workers = first.wait_for_workers(kWorkers);
  second.start(kSmallWorkload);
  const auto second_workers = second.wait_for_workers(kWorkers);
  const Status first_before = wait_until_playing(first);
  const Status second_before = wait_until_playing(second);

  const std::string first_segment =
      segment_name(instance_name("sidebyside-a"), first.process().pid());
  const std::string second_segment =
      segment_name(instance_name("sidebyside-b"), second.process().pid());
  EXPECT_TRUE(is_fifo(first.control_path()));
  EXPECT_TRUE(is_fifo(second.control_path()));
  EXPECT_TRUE(maps_segment(first.process().pid(), first_segment));
  EXPECT_TRUE(maps_segment(second.process().pid(), second_segment));
  EXPECT_FALSE(maps_segment(second.process().pid(), first_segment));
  std::this_thread::sleep_for(200ms);
  const auto first_after = request_status(first);
  const auto second_after = request_status(second);
  ASSERT_TRUE(first_after && second_after);
  EXPECT_GT(first_after->callbacks, first_before.callbacks);
  EXPECT_GT(second_after->callbacks, second_before.callbacks);
  EXPECT_EQ(first_after->workers[0].pid, first_workers[0]);
  EXPECT_EQ(second_after->workers[0].pid, second_workers[0]);
  second.send_command("quit");
  second.expect_exit(0, second_workers);
  first.send_command("quit");
  first.expect_exit(0, first_workers);
}

// Issue item 5: the name is the lock. A second start with the same name (and even the same FIFO
// path) is refused with exit 1 and the holder's pid, and leaves the first instance untouched.
TEST(SeveralInstances, TheSameNameIsRefusedWithTheHoldersPidAndTheHolderIsUntouched) {
  SynthfarmRun first("samename");
  first.start(kSmallWorkload);
  const auto workers = first.wait_for_workers(kWorkers);
  const Status before = wait_until_playing(first);

  const std::string name = instance_name("samename");
  std::vector<std::string> argv{testing::built_program("synthfarm"), "--name", name, "--control",
                                first.control_path()};
  argv.insert(argv.end(), kSmallWorkload.begin(), kSmallWorkload.end());
  ChildProcess second(argv);
  const auto exit_code = second.wait_exit_code(10s);
  ASSERT_TRUE(exit_code);
  EXPECT_EQ(*exit_code, 1) << "README: 1 is a run that started and failed";
  const std::string message = second.stderr_text();
  EXPECT_NE(message.find(name), std::string::npos) << message;
  EXPECT_NE(message.find("pid " + std::to_string(first.process().pid())), std::string::npos)
      << "the refusal does not name the holder: " << message;
  EXPECT_EQ(second.stdout_text().find("worker 0 pid"), std::string::npos) << "a worker started";

  EXPECT_TRUE(is_fifo(first.control_path()));
  EXPECT_TRUE(maps_segment(first.process().pid(), segment_name(name, first.process().pid())));
  const auto after = request_status(first);
  ASSERT_TRUE(after) << "the first instance no longer answers on its FIFO";
  EXPECT_GT(after->callbacks, before.callbacks);
  first.send_command("quit");
  first.expect_exit(0, workers);
}

// Issue item 5: a dead instance's leftovers (a FIFO, a segment named after a dead pid) are
// reclaimed at the next start; a live instance's FIFO and segments are never touched.
TEST(SeveralInstances, ADeadInstancesLeftoversAreReclaimedAndALiveOnesAreNot) {
  SynthfarmRun live("leftovers-live");
  live.start(kSmallWorkload);
  const auto live_workers = live.wait_for_workers(kWorkers);
  const Status live_before = wait_until_playing(live);

  SynthfarmRun dead("leftovers-dead");
  dead.start(kSmallWorkload);
  dead.wait_for_workers(kWorkers);
  dead.process().send_signal(SIGKILL);
  ASSERT_EQ(dead.process().wait_exit_code(5s), -SIGKILL);
  ASSERT_TRUE(is_fifo(dead.control_path()));
  // A segment a crash left between its creation and the workers' attach (then the name is
  // still linked), and one whose owner is alive (this test process): only the first may go.
  FakeSegment stale(instance_name("leftovers-stale"), dead_pid());
  FakeSegment owned_by_live_process(instance_name("leftovers-owned"), getpid());

  dead.start(kSmallWorkload);
  const auto dead_workers = dead.wait_for_workers(kWorkers);
  const std::string notices = dead.process().stderr_text();
  EXPECT_NE(notices.find("stale control FIFO " + dead.control_path()), std::string::npos)
      << notices;
  EXPECT_FALSE(stale.exists()) << "/dev/shm/" << stale.name() << " of a dead pid was kept";
  EXPECT_NE(notices.find("/dev/shm/" + stale.name()), std::string::npos)
      << "no notice of the reclaimed segment on stderr: " << notices;
  EXPECT_TRUE(owned_by_live_process.exists())
      << "/dev/shm/" << owned_by_live_process.name() << " of a live process was removed";
  EXPECT_EQ(notices.find(owned_by_live_process.name()), std::string::npos) << notices;

  // The live instance: FIFO, segment and playback as before.
  EXPECT_TRUE(is_fifo(live.control_path()));
  EXPECT_TRUE(maps_segment(live.process().pid(),
                           segment_name(instance_name("leftovers-live"), live.process().pid())));
  const auto live_after = request_status(live);
  ASSERT_TRUE(live_after) << "the live instance no longer answers on its FIFO";
  EXPECT_GT(live_after->callbacks, live_before.callbacks);
  for (std::size_t w = 0; w < kWorkers; ++w) {
    EXPECT_GT(live_after->workers[w].rendered_frames, live_before.workers[w].rendered_frames);
  }
  dead.send_command("quit");
  dead.expect_exit(0, dead_workers);
  live.send_command("quit");
  live.expect_exit(0, live_workers);
}

// --- Workers that cannot start.

// Issue item 6: the coordinator runs synthfarm-worker from beside its own executable; from a
// directory that lacks it (or holds a broken one) it must fail fast and clean. SynthfarmRun
// always runs the built coordinator, so these run a copy through ChildProcess.
class WorkerStartFailure : public ::testing::Test {
 protected:
  WorkerStartFailure() {
    std::filesystem::copy_file(testing::built_program("synthfarm"), programs_.file("synthfarm"));
  }

  // Runs the copy; expects exit 1 within 1 s, a message matching `message` on stderr, and
  // nothing left: no process started from the copy's directory, no /dev/shm entry, no FIFO.
  void expect_fast_clean_failure(const std::string& message) {
    testing::retry_while_machine_stalled(testing::kTimingAttempts, [&](MachineStall& stall) {
      const std::string name = instance_name("workerstart");
      const std::string control = programs_.file("control");
      std::vector<std::string> argv{programs_.file("synthfarm"), "--name", name, "--control",
                                    control};
      argv.insert(argv.end(), kSmallWorkload.begin(), kSmallWorkload.end());
      const CpuPressure pressure;  // the coordinator is gone when its time is judged
      const auto started_at = Clock::now();
      ChildProcess coordinator(argv);
      const auto exit_code = coordinator.wait_exit_code(10s);
      const double exit_ms = milliseconds_since(started_at);
      ASSERT_TRUE(exit_code) << "no exit within 10 s";
      report_measurement(
          std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
              ": start to exit",
          exit_ms, "ms");
      EXPECT_EQ(*exit_code, 1) << "README: 1 is a run that started and failed";
      expect_within(exit_ms, 1000.0, pressure, "start to exit", stall);
      const std::string errors = coordinator.stderr_text();
      EXPECT_TRUE(std::regex_search(errors, std::regex(message))) << "stderr: " << errors;
      EXPECT_TRUE(processes_mentioning(programs_.path()).empty())
          << "a process started from " << programs_.path() << " is still running";
      EXPECT_TRUE(testing::shm_entries("synthfarm-" + name + "-").empty())
          << "shared memory of instance " << name << " left in /dev/shm";
      EXPECT_FALSE(path_exists(control)) << "control FIFO left at " << control;
    });
  }

  TempDir programs_;
};

TEST_F(WorkerStartFailure, AMissingWorkerExecutableIsNamedWithin1S) {
  expect_fast_clean_failure("cannot start worker 0 \\(" + programs_.file("synthfarm-worker") +
                            "\\): No such file");
}

TEST_F(WorkerStartFailure, AWorkerThatExitsAtOnceIsReportedWithin1S) {
  const std::string worker = programs_.file("synthfarm-worker");
  std::ofstream(worker) << "#!/bin/sh\nexit 3\n";
  std::filesystem::permissions(worker, std::filesystem::perms::owner_all);
  expect_fast_clean_failure("worker [0-9]+ \\(pid [0-9]+\\) exited with code 3");
}

}  // namespace
}  // namespace synthfarm
