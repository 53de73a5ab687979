// How a run ends (issue 13 items 6 and 7): the fade-out is played before the output stops, and
// signals end a run at every stage, a second one at once, always leaving nothing behind.
//
// Assertions are on causes the coordinator reports (how many buffers the output played after the
// fade; which stage a signal ended), so a loaded machine does not break them. The only wall-clock
// bound is the issue's own: a start-up ended by a signal exits within 2 s.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/synthfarm_run.h"
#include "tests/support/wav_file.h"

namespace synthfarm {
namespace {

using namespace std::chrono_literals;
using testing::SynthfarmRun;

// The number of buffers in "faded out; the output played N buffers after the fade", or -1.
long buffers_played_after_fade(const std::string& stdout_text) {
  std::smatch match;
  if (!std::regex_search(stdout_text, match,
                         std::regex("faded out; the output played ([0-9]+) buffers after"))) {
    return -1;
  }
  return std::stol(match[1]);
}

// Item 6: `quit` waits until the device has asked for 4 buffers (the most an output queues,
// PulseAudio's) after the one that completed the fade, instead of a fixed sleep; the recording,
// which sees every buffer the output got, ends in silence.
TEST(FadeOut, QuitStopsTheOutputOnlyAfterTheFadeWasPlayed) {
  SynthfarmRun run("fadequit");
  const std::string recording = run.file("fade.wav");
  run.start({"--audio", "null", "--workers", "2", "--sines", "20", "--record", recording});
  const auto pids = run.wait_for_workers(2);
  ASSERT_TRUE(run.process().wait_for_stdout(std::regex("synthfarm: audio thread"), 10s))
      << run.process().stdout_text();
  std::this_thread::sleep_for(200ms);
  run.send_command("quit");
  run.expect_exit(0, pids);
  const long played = buffers_played_after_fade(run.process().stdout_text());
  EXPECT_GE(played, 4) << "stdout: " << run.process().stdout_text()
                       << "stderr: " << run.process().stderr_text();
  std::string error;
  const auto wav = testing::read_wav(recording, error);
  ASSERT_TRUE(wav) << error;
  ASSERT_GT(wav->frames, 256u);
  for (std::uint64_t frame = wav->frames - 256; frame < wav->frames; ++frame) {
    for (std::uint32_t channel = 0; channel < 2; ++channel) {
      ASSERT_EQ(wav->at(frame, channel), 0.0f)
          << "the recording does not end in silence: frame " << frame << " of " << wav->frames;
    }
  }
}

// Item 6: SIGTERM fades out the same way.
TEST(FadeOut, SigtermStopsTheOutputOnlyAfterTheFadeWasPlayed) {
  SynthfarmRun run("fadeterm");
  run.start({"--audio", "null", "--workers", "2", "--sines", "20"});
  const auto pids = run.wait_for_workers(2);
  ASSERT_TRUE(run.process().wait_for_stdout(std::regex("synthfarm: audio thread"), 10s));
  run.process().send_signal(SIGTERM);
  run.expect_exit(0, pids);
  EXPECT_GE(buffers_played_after_fade(run.process().stdout_text()), 4)
      << run.process().stdout_text();
}

// A worker so heavy that one block takes a good part of a second even on a fast machine: 10
// million oscillators x 256 frames. Its prefill (2 blocks) is still going on when the start-up
// report has been printed, and it is in the middle of a block when the run is stopped.
const std::vector<std::string> kHeavyStart{"--audio", "null",    "--workers",
                                           "1",       "--sines", "10000000"};

// Item 7: SIGTERM while the rings fill (the start-up report is printed just before that wait)
// ends the start-up there, cleanly, within the 2 s: the output is never started.
TEST(StartUpSignals, SigtermWhileTheRingsFillEndsTheStartUpCleanlyWithinTwoSeconds) {
  SynthfarmRun run("sigprefill");
  run.start(kHeavyStart);
  const auto pids = run.wait_for_workers(1);
  ASSERT_EQ(pids.size(), 1u);
  const auto signalled_at = std::chrono::steady_clock::now();
  run.process().send_signal(SIGTERM);
  const auto exit_code = run.process().wait_exit_code(2s);
  std::printf(
      "[ measured ] SIGTERM while the rings fill to exit: %.0f ms\n",
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - signalled_at)
          .count());
  ASSERT_TRUE(exit_code) << "still running 2 s after SIGTERM; stdout: "
                         << run.process().stdout_text();
  run.expect_exit(0, pids);
  const std::string out = run.process().stdout_text();
  EXPECT_NE(
      out.find(
          "synthfarm: TERM received; stopping (the start-up ends while the rings were filling)"),
      std::string::npos)
      << out;
  EXPECT_EQ(out.find("synthfarm: memory:"), std::string::npos)
      << "the output was started (and memory locked) after the signal: " << out;
}

// Item 7: a second SIGINT during the teardown does not wait for a worker that does not leave
// (the grace is 1 s, then SIGTERM and 1 s more): it is killed at once, and still nothing is left
// behind. The worker is stopped (SIGSTOP) first, so that it cannot leave on its own before the
// second signal: only SIGKILL ends it.
TEST(StartUpSignals, ASecondSigintDuringTheTeardownKillsTheWorkersAtOnceAndLeavesNothing) {
  SynthfarmRun run("sigtwice");
  run.start(kHeavyStart);
  const auto pids = run.wait_for_workers(1);
  ASSERT_EQ(pids.size(), 1u);
  ASSERT_EQ(::kill(pids[0], SIGSTOP), 0);
  run.process().send_signal(SIGINT);
  ASSERT_TRUE(run.process().wait_for_stdout(std::regex("synthfarm: INT received"), 10s))
      << run.process().stdout_text();
  run.process().send_signal(SIGINT);
  run.expect_exit(0, pids);
  EXPECT_NE(run.process().stdout_text().find(
                "synthfarm: signal received again; the workers were killed at once"),
            std::string::npos)
      << run.process().stdout_text();
}

}  // namespace
}  // namespace synthfarm
