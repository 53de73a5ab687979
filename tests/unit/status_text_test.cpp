// The status lines and the closing lines, exactly as scripts and the process tests read them.
#include "coordinator/report/status_text.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <cerrno>

#include <memory>
#include <string>

namespace synthfarm {
namespace {

// `count` durations of `ns` each: mean, 99th percentile and maximum are all exactly `ns`
// (a quantile is clamped to the recorded extremes).
DurationSummary durations(std::uint64_t count, std::uint64_t ns) {
  auto histogram = std::make_unique<DurationHistogram>();
  for (std::uint64_t i = 0; i < count; ++i) histogram->record(ns);
  return DurationSummary::read(*histogram);
}

// A worker of 50 oscillators at feedback 0.2 and mul 0.5 that has not rendered yet.
WorkerStatistics worker(std::uint32_t index, int pid, const char* state) {
  WorkerStatistics statistics;
  statistics.index = index;
  statistics.pid = pid;
  statistics.state = state;
  statistics.oscillators = 50;
  statistics.feedback = 0.2f;
  statistics.mul = 0.5f;
  return statistics;
}

// Two seconds at 48 kHz in 256-frame periods (5333.3 us): worker 0 plays at half load,
// worker 1 died before it rendered anything.
RunStatistics two_seconds() {
  RunStatistics run;
  run.sample_rate_hz = 48000;
  run.block_frames = 256;
  run.timeline_frames = 96000;
  run.callbacks = 375;
  run.device_underflows = 1;
  run.server_xruns = 4;
  run.nonfinite_samples = 2;
  run.limited_samples = 3;
  run.gain_db = -6.0;
  run.callback = durations(375, 10'000);
  WorkerStatistics playing = worker(0, 1234, "playing");
  playing.rendered_frames = 96512;
  playing.render_time = durations(377, 2'666'667);
  WorkerStatistics dead = worker(1, 1235, "dead");
  dead.underrun_frames = 96000;
  dead.late_blocks = 375;
  dead.discarded_frames = 7;
  run.workers = {playing, dead};
  return run;
}

const RecordingStatistics kRecording{"/tmp/r.wav", 48000, 3, ""};

TEST(StatusText, HasTheRunLineThenOneLinePerWorker) {
  EXPECT_EQ(format_status_text("status", two_seconds(), std::nullopt),
            "status: seconds=2.000 timeline_frames=96000 callbacks=375 callback_avg_us=10.0 "
            "callback_p99_us=10.0 callback_max_us=10.0 period_us=5333.3 device_underflows=1 "
            "server_xruns=4 nonfinite_samples=2 limited_samples=3 gain_db=-6.00\n"
            "status worker 0: state=playing pid=1234 oscillators=50 rendered_frames=96512 "
            "underrun_frames=0 late_blocks=0 discarded_frames=0 render_load=50.0% "
            "render_max_us=2666.7 feedback=0.2 mul=0.5 sched=SCHED_OTHER sched_nice=0 "
            "near_rt_throttling=no\n"
            "status worker 1: state=dead pid=1235 oscillators=50 rendered_frames=0 "
            "underrun_frames=96000 late_blocks=375 discarded_frames=7 render_load=0.0% "
            "render_max_us=0.0 feedback=0.2 mul=0.5 sched=SCHED_OTHER sched_nice=0 "
            "near_rt_throttling=no\n");
}

TEST(StatusText, SaysEachThreadsSchedulingAndFlagsARealTimeWorkerNearThrottling) {
  RunStatistics run = two_seconds();
  run.audio_thread = {SCHED_FIFO, 70, 0, 0};
  run.waker = {SCHED_FIFO, 69, 0, 0};
  run.realtime_throttle_share = 0.95;
  run.workers[0].scheduling = {SCHED_FIFO, 68, 0, 0};
  run.workers[0].render_time = durations(375, 4'900'000);  // 91.9 % of the 5.33 ms period
  run.workers[1].scheduling = {SCHED_OTHER, 0, -10, EPERM};
  run.workers[1].render_time = durations(375, 5'000'000);  // busier, but never throttled
  const std::string text = format_status_text("status", run, std::nullopt);
  EXPECT_NE(text.find("status scheduling: audio_thread=SCHED_FIFO audio_thread_priority=70 "
                      "waker=SCHED_FIFO waker_priority=69 rt_throttle_share=0.950\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("sched=SCHED_FIFO sched_priority=68 near_rt_throttling=yes\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("sched=SCHED_OTHER sched_nice=-10 sched_errno=" + std::to_string(EPERM) +
                      " near_rt_throttling=no\n"),
            std::string::npos)
      << text;
  // Well below the share: no flag.
  run.workers[0].render_time = durations(375, 2'666'667);
  EXPECT_NE(format_status_text("status", run, std::nullopt)
                .find("sched=SCHED_FIFO sched_priority=68 near_rt_throttling=no\n"),
            std::string::npos);
}

TEST(StatusText, PutsTheRecordingLineAfterTheRunLineUnderTheSameLabel) {
  const std::string text = format_status_text("final", two_seconds(), kRecording);
  const std::string recording_line =
      "final recording: path=/tmp/r.wav frames_written=48000 frames_dropped=3\n";
  const auto first_newline = text.find('\n');
  ASSERT_NE(first_newline, std::string::npos);
  EXPECT_TRUE(text.starts_with("final: seconds=2.000 ")) << text;
  EXPECT_EQ(text.substr(first_newline + 1, recording_line.size()), recording_line);
  EXPECT_NE(text.find("final worker 1: state=dead"), std::string::npos) << text;
}

TEST(StatusText, NeverCutsALongPath) {
  RecordingStatistics recording = kRecording;
  recording.path = "/tmp/" + std::string(3000, 'r') + ".wav";
  const std::string text = format_status_text("status", two_seconds(), recording);
  EXPECT_NE(text.find("path=" + recording.path + " frames_written=48000"), std::string::npos);
}

TEST(StatusText, ARunWithoutWorkersOrCallbacksHasOnlyItsRunLine) {
  RunStatistics run;
  run.sample_rate_hz = 44100;
  run.block_frames = 441;
  EXPECT_EQ(format_status_text("status", run, std::nullopt),
            "status: seconds=0.000 timeline_frames=0 callbacks=0 callback_avg_us=0.0 "
            "callback_p99_us=0.0 callback_max_us=0.0 period_us=10000.0 device_underflows=0 "
            "server_xruns=0 nonfinite_samples=0 limited_samples=0 gain_db=0.00\n");
}

TEST(RecordingSummary, SaysFramesSecondsPathAndDroppedFrames) {
  EXPECT_EQ(format_recording_summary(kRecording, 48000),
            "synthfarm: recorded 48000 frames (1.000 s) to /tmp/r.wav, 3 frames dropped\n");
}

TEST(RecordingSummary, DroppedFramesAreAnErrorMessageThatSaysWhatToCheck) {
  EXPECT_EQ(describe_dropped_recording(kRecording),
            "--record: 3 frames could not be written in time and are missing from /tmp/r.wav "
            "(is the disk slow or busy?)");
  RecordingStatistics whole = kRecording;
  whole.frames_dropped = 0;
  EXPECT_FALSE(describe_dropped_recording(whole));
}

TEST(RenderSummary, SaysFramesSecondsAndTheFile) {
  EXPECT_EQ(format_render_summary(96000, 48000, "/tmp/o.wav"),
            "synthfarm: wrote 96000 frames (2.000 s) to /tmp/o.wav\n");
  EXPECT_EQ(format_render_summary(22050, 44100, "/tmp/o.wav"),
            "synthfarm: wrote 22050 frames (0.500 s) to /tmp/o.wav\n");
}

}  // namespace
}  // namespace synthfarm
