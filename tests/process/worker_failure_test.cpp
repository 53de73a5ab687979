// A worker killed while playing (issue 4, item 1): the coordinator notices at once, names the
// worker, its pid and the signal, and then follows --on-worker-failure.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <regex>
#include <string>
#include <thread>

#include "tests/support/child_process.h"
#include "tests/support/machine_stall.h"
#include "tests/support/synthfarm_run.h"

namespace synthfarm {
namespace {

using namespace std::chrono_literals;
using testing::CpuPressure;
using testing::excused_by;
using testing::HiddenStalls;
using testing::kOnePeriod;
using testing::kTimingAttempts;
using testing::MachineStall;
using testing::RunQueueWait;
using testing::SynthfarmRun;

constexpr int kWorkers = 3;

// Sends `status` and returns the captures of `line` in that reply. Every reply has the same
// lines, so the reply to the n-th request is the n-th match: skip the n - 1 before it.
class StatusReader {
 public:
  explicit StatusReader(SynthfarmRun& run) : run_(run) {}

  std::optional<std::vector<std::string>> request(const std::string& line) {
    run_.send_command("status");
    ++requests_;
    const std::string skip =
        "(?:status: seconds=[\\s\\S]*?){" + std::to_string(requests_ - 1) + "}";
    return run_.process().wait_for_stdout(std::regex(skip + "status: seconds=[\\s\\S]*?" + line),
                                          2s);
  }

  std::uint64_t callbacks() {
    const auto found = request("callbacks=([0-9]+)");
    EXPECT_TRUE(found) << run_.process().stdout_text();
    return found ? std::stoull((*found)[1]) : 0;
  }

  // state and underrun_frames of worker `index`.
  std::optional<std::vector<std::string>> worker(int index) {
    return request("status worker " + std::to_string(index) +
                   ": state=(\\w+) pid=[0-9]+ oscillators=[0-9]+ rendered_frames=[0-9]+ "
                   "underrun_frames=([0-9]+)");
  }

 private:
  SynthfarmRun& run_;
  int requests_ = 0;
};

// Kills worker 1 with SIGKILL and returns how long the coordinator took to say so on stderr.
std::chrono::milliseconds kill_worker_and_time_report(SynthfarmRun& run, pid_t pid) {
  const auto killed_at = std::chrono::steady_clock::now();
  ::kill(pid, SIGKILL);
  const auto report = run.process().wait_for_stderr(
      std::regex("worker 1 \\(pid " + std::to_string(pid) + "\\) was killed by signal 9"), 2s);
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - killed_at);
  EXPECT_TRUE(report) << "stderr: " << run.process().stderr_text();
  return elapsed;
}

// Kills worker 1 and expects the coordinator to name it within 100 ms (the issue's limit), unless
// the test's and the coordinator's threads waited for a CPU as long as the limit was missed by.
std::chrono::milliseconds kill_worker_and_expect_report(SynthfarmRun& run, pid_t pid,
                                                        MachineStall& stall) {
  const RunQueueWait wait({getpid(), run.process().pid()});
  const auto detection = kill_worker_and_time_report(run, pid);
  testing::expect_within(detection, 100ms, wait, "naming the dead worker", stall);
  return detection;
}

// Expects a surviving worker to have had no underrun in the whole run, unless the coordinator's
// and the survivors' threads waited for a CPU at least one buffer's time, or a CPU itself stalled
// that long (`hidden`, probing since the run started): less cannot make a healthy worker late.
void expect_no_underrun(SynthfarmRun& run, const std::vector<pid_t>& survivors, int worker,
                        const std::string& underrun_frames, const HiddenStalls& hidden,
                        MachineStall& stall) {
  std::vector<pid_t> pids = survivors;
  pids.push_back(run.process().pid());
  const std::string fact =
      "worker " + std::to_string(worker) + " had " + underrun_frames + " underrun frames";
  const bool excused = underrun_frames != "0" &&
                       (excused_by(RunQueueWait::over_whole_life(pids), kOnePeriod, fact, stall) ||
                        excused_by(hidden, kOnePeriod, fact, stall));
  if (!excused) {
    EXPECT_EQ(underrun_frames, "0") << "worker " << worker << " had underruns";
  }
}

// Starts kWorkers workers on the null clock under the default policy and returns their pids
// once the run is past the prefill, in steady state.
std::vector<pid_t> start_playing(SynthfarmRun& run) {
  run.start({"--audio", "null", "--workers", std::to_string(kWorkers), "--sines", "50"});
  const auto pids = run.wait_for_workers(kWorkers);
  std::this_thread::sleep_for(300ms);
  return pids;
}

// The default policy, silence: the dead worker's share falls silent and the rest plays on.
TEST(WorkerKilled, IsNamedWithinATenthOfASecondAndTheOthersPlayOn) {
  testing::retry_while_machine_stalled(kTimingAttempts, [](MachineStall& stall) {
    const HiddenStalls hidden;  // from before the run: the CPUs' own stalls
    SynthfarmRun run("killsilence");
    const auto pids = start_playing(run);
    ASSERT_EQ(pids.size(), static_cast<std::size_t>(kWorkers));

    const auto detection = kill_worker_and_expect_report(run, pids[1], stall);
    std::printf("detection: %lld ms\n", static_cast<long long>(detection.count()));

    StatusReader status(run);
    const RunQueueWait coordinator_wait({run.process().pid()});
    const std::uint64_t callbacks_before = status.callbacks();
    std::this_thread::sleep_for(500ms);
    // 500 ms is 94 callbacks of 256 frames at 48 kHz; half of them is proof enough.
    const std::uint64_t callbacks = status.callbacks() - callbacks_before;
    const bool excused =
        callbacks <= 47 && excused_by(coordinator_wait, (48 - callbacks) * kOnePeriod,
                                      std::to_string(callbacks) + " callbacks in 500 ms", stall);
    if (!excused) {
      EXPECT_GT(callbacks, 47u) << "the output stopped after the kill";
    }
    for (const int survivor : {0, 2}) {
      const auto line = status.worker(survivor);
      ASSERT_TRUE(line) << run.process().stdout_text();
      EXPECT_EQ((*line)[1], "playing");
      expect_no_underrun(run, {pids[0], pids[2]}, survivor, (*line)[2], hidden, stall);
    }
    run.send_command("quit");
    run.expect_exit(0, pids);
  });
}

// Issue 13 item 9: a flood of control lines never keeps the control thread from noticing a dead
// worker. 100,000 lines written as fast as the FIFO takes them (the coordinator, which answers
// each one on stdout, is the slower side, so its FIFO never runs dry); the kill comes once the
// flood is being answered, and the flood must still be going on when the worker is named, or
// the test proves nothing.
TEST(WorkerKilled, IsNamedWithinATenthOfASecondDuringAFloodOfControlLines) {
  testing::retry_while_machine_stalled(kTimingAttempts, [](MachineStall& stall) {
    SynthfarmRun run("killflood");
    const auto pids = start_playing(run);
    ASSERT_EQ(pids.size(), static_cast<std::size_t>(kWorkers));

    constexpr int kLines = 100'000;
    const int fd = ::open(run.control_path().c_str(), O_WRONLY | O_CLOEXEC);  // blocking writes
    ASSERT_GE(fd, 0) << "cannot open the control FIFO " << run.control_path();
    std::atomic<bool> flood_done{false};
    std::thread flood([&] {
      const std::string chunk = [] {
        std::string text;
        for (int i = 0; i < 512; ++i) text += "gain 0\n";  // 3584 bytes: under PIPE_BUF
        return text;
      }();
      for (int written = 0; written < kLines; written += 512) {
        if (::write(fd, chunk.data(), chunk.size()) != static_cast<ssize_t>(chunk.size())) break;
      }
      flood_done.store(true);
    });
    const bool answering =
        run.process().wait_for_stdout(std::regex("control: gain 0 dB"), 10s).has_value();
    const auto detection = answering ? kill_worker_and_expect_report(run, pids[1], stall) : 0ms;
    const bool flood_was_going_on = !flood_done.load();
    flood.join();
    ::close(fd);
    ASSERT_TRUE(answering) << "the flood was not answered";
    EXPECT_TRUE(flood_was_going_on)
        << "the flood ended before the worker was named: make it longer";
    std::printf("detection during the flood: %lld ms\n", static_cast<long long>(detection.count()));
    run.send_command("quit");
    run.expect_exit(0, pids);
  });
}

// Issue 13 item 9: `report FILE` on a file system whose fsync takes a second (a preloaded
// fsync) does not keep the control thread from noticing a dead worker: the write goes on in the
// background once it outlasts 50 ms, and its outcome is said when it is done.
TEST(WorkerKilled, IsNamedWithinATenthOfASecondWhileAReportIsSyncedToASlowDisk) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "a preloaded library cannot come before a sanitizer's runtime";
#endif
  testing::retry_while_machine_stalled(kTimingAttempts, [](MachineStall& stall) {
    SynthfarmRun run("killreport");
    run.start({"--audio", "null", "--workers", std::to_string(kWorkers), "--sines", "50"},
              {std::string("LD_PRELOAD=") + SYNTHFARM_SLOW_FSYNC_LIBRARY});
    const auto pids = run.wait_for_workers(kWorkers);
    ASSERT_EQ(pids.size(), static_cast<std::size_t>(kWorkers));
    std::this_thread::sleep_for(300ms);
    const std::string report = run.file("report.json");
    run.send_command("report " + report);
    std::this_thread::sleep_for(200ms);  // well inside the second the fsync takes
    const auto detection = kill_worker_and_expect_report(run, pids[1], stall);
    std::printf("detection during a slow report: %lld ms\n",
                static_cast<long long>(detection.count()));
    EXPECT_TRUE(
        run.process().wait_for_stdout(std::regex("control: report written to " + report), 5s))
        << run.process().stdout_text() << run.process().stderr_text();
    run.send_command("quit");
    run.expect_exit(0, pids);
  });
}

// --on-worker-failure abort: a dead worker ends the run, cleanly and with exit code 1.
TEST(WorkerKilled, EndsTheRunWithExitCode1UnderAbort) {
  testing::retry_while_machine_stalled(kTimingAttempts, [](MachineStall& stall) {
    SynthfarmRun run("killabort");
    run.start({"--audio", "null", "--workers", std::to_string(kWorkers), "--sines", "50",
               "--on-worker-failure", "abort"});
    const auto pids = run.wait_for_workers(kWorkers);
    ASSERT_EQ(pids.size(), static_cast<std::size_t>(kWorkers));
    std::this_thread::sleep_for(300ms);

    const CpuPressure pressure;  // the coordinator is gone when its exit time is judged
    const auto killed_at = std::chrono::steady_clock::now();
    kill_worker_and_expect_report(run, pids[1], stall);
    EXPECT_TRUE(run.process().wait_for_stderr(std::regex("--on-worker-failure abort"), 1s));
    run.expect_exit(1, pids);  // also: no worker, no /dev/shm entry, no FIFO left
    const auto exited_after = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - killed_at);
    testing::expect_within(exited_after, 2s, pressure, "the exit after the kill", stall);
    std::printf("abort: exited %lld ms after the kill\n",
                static_cast<long long>(exited_after.count()));
  });
}

// --on-worker-failure restart: a new worker takes the dead one's oscillators within 500 ms and
// plays on the common timeline; one that keeps dying is restarted later each time.
TEST(WorkerKilled, IsReplacedWithinHalfASecondAndBackedOffWhenItKeepsDying) {
  testing::retry_while_machine_stalled(kTimingAttempts, [](MachineStall& stall) {
    const HiddenStalls hidden;  // from before the run: the CPUs' own stalls
    SynthfarmRun run("killrestart");
    run.start({"--audio", "null", "--workers", std::to_string(kWorkers), "--sines", "50",
               "--on-worker-failure", "restart"});
    auto pids = run.wait_for_workers(kWorkers);
    ASSERT_EQ(pids.size(), static_cast<std::size_t>(kWorkers));
    std::this_thread::sleep_for(300ms);

    pid_t victim = pids[1];
    std::vector<long long> restart_ms;
    std::vector<std::string> announced_delays;
    // The replacement is a new process: the machine's pressure over the first round is what
    // can excuse its time.
    std::optional<CpuPressure> pressure;
    testing::Frozen<CpuPressure> first_round_pressure{};
    for (int round = 1; round <= 3; ++round) {
      if (round == 1) pressure.emplace();
      const auto killed_at = std::chrono::steady_clock::now();
      ::kill(victim, SIGKILL);
      const auto report = run.process().wait_for_stderr(
          std::regex("worker 1 \\(pid " + std::to_string(victim) +
                     "\\) was killed by signal 9 \\(Killed\\); starting a new worker for its "
                     "oscillators( in ([0-9]+) ms)?"),
          2s);
      ASSERT_TRUE(report) << run.process().stderr_text();
      announced_delays.push_back((*report)[2]);
      // The n-th replacement is the n-th "restarted" line.
      const auto restarted = run.process().wait_for_stdout(
          std::regex("(?:worker 1 restarted, pid [0-9]+[\\s\\S]*?){" + std::to_string(round - 1) +
                     "}worker 1 restarted, pid ([0-9]+)"),
          8s);
      ASSERT_TRUE(restarted) << run.process().stdout_text();
      restart_ms.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - killed_at)
                               .count());
      if (round == 1) first_round_pressure.measured = pressure->since_start();
      victim = std::stoi((*restarted)[1]);
      EXPECT_TRUE(testing::process_alive(victim));
      std::printf("round %d: replaced after %lld ms (announced back-off: '%s' ms)\n", round,
                  restart_ms.back(), announced_delays.back().c_str());
    }
    const bool excused =
        restart_ms[0] >= 500 &&
        excused_by(first_round_pressure, std::chrono::milliseconds(restart_ms[0] - 500),
                   "the first replacement came after " + std::to_string(restart_ms[0]) + " ms",
                   stall);
    if (!excused) {
      EXPECT_LT(restart_ms[0], 500) << "the first replacement must come within 500 ms";
    }
    EXPECT_TRUE(announced_delays[0].empty()) << "the first replacement is immediate";
    ASSERT_FALSE(announced_delays[1].empty());
    ASSERT_FALSE(announced_delays[2].empty());
    EXPECT_GT(std::stoi(announced_delays[2]), std::stoi(announced_delays[1]))
        << "a worker that keeps dying must wait longer each time";

    // The replacement plays (its rendered frames grow) and nobody else had underruns.
    std::this_thread::sleep_for(500ms);
    StatusReader status(run);
    const auto replaced = status.worker(1);
    ASSERT_TRUE(replaced) << run.process().stdout_text();
    EXPECT_EQ((*replaced)[1], "playing");
    for (const int survivor : {0, 2}) {
      const auto line = status.worker(survivor);
      ASSERT_TRUE(line);
      expect_no_underrun(run, {pids[0], pids[2]}, survivor, (*line)[2], hidden, stall);
    }
    run.send_command("quit");
    run.expect_exit(0, {pids[0], victim, pids[2]});
  });
}

}  // namespace
}  // namespace synthfarm
