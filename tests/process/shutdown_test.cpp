// How a run ends (issue 13 items 6 and 7): the fade-out is played before the output stops, and
// signals end a run at every stage, a second one at once, always leaving nothing behind.
//
// Assertions are on causes the coordinator reports (how many buffers the output played after the
// fade; which stage a signal ended), so a loaded machine does not break them. The only wall-clock
// bound is the issue's own: a start-up ended by a signal exits within 2 s.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <regex>
#include <string>
#include <thread>

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

}  // namespace
}  // namespace synthfarm
