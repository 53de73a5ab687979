// The lines synthfarm prints once it has started, exactly as users and the process tests
// read them.
#include "coordinator/report/startup_report.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "coordinator/control/control_protocol.h"
#include "shared/realtime_setup.h"

namespace synthfarm {
namespace {

Options two_workers() {
  Options options;
  options.workers = 2;
  options.feedback = 0.2;
  options.mul = 0.5;
  options.freq_min_hz = 100;
  options.freq_max_hz = 1000;
  options.channels = 2;
  options.name = "studio";
  return options;
}

OscillatorPlan seeded_plan() {
  return OscillatorPlan{{110.0, 220.0, 330.0, 440.0}, 42};
}

StartupFacts live_facts() {
  StartupFacts facts;
  facts.output_description = "JACK, 48000 Hz, 256 frames per buffer";
  facts.sample_rate_hz = 48000;
  facts.added_latency_frames = 512;
  facts.control_fifo_path = "/run/user/1000/synthfarm/studio.control";
  facts.worker_pids = {101, 102};
  facts.groups = {{0, 2}, {2, 2}};
  return facts;
}

TEST(StartupReport, TheAddedLatencyCountsTheBuffersAskedFor) {
  Options options = two_workers();
  options.buffers = 4;
  StartupFacts facts = live_facts();
  facts.added_latency_frames = 1024;
  EXPECT_NE(format_startup_report(options, seeded_plan(), facts)
                .find("synthfarm: added latency 1024 frames (21.3 ms): each worker renders 4 "
                      "buffers ahead (--buffers)\n"),
            std::string::npos);
}

TEST(StartupReport, ALiveRunSaysWhatPlaysWhereAndHowToRepeatAndControlIt) {
  const Options options = two_workers();
  EXPECT_EQ(format_startup_report(options, seeded_plan(), live_facts()),
            std::string("synthfarm ") + SYNTHFARM_VERSION +
                ": 2 workers, 4 oscillators (pyo SineLoop), feedback 0.2, mul 0.5\n"
                "synthfarm: kernel " +
                describe_kernel(options.kernel, options.simd) +
                "\n"
                "synthfarm: frequencies 100-1000 Hz drawn with seed 42 (repeat this run with "
                "--seed 42)\n"
                "synthfarm: output: JACK, 48000 Hz, 256 frames per buffer, 2 channels\n"
                "synthfarm: added latency 512 frames (10.7 ms): each worker renders 2 buffers "
                "ahead (--buffers)\n"
                "synthfarm: " +
                describe_worker_memory(2, 0, 0) +
                "\n"
                "synthfarm: control FIFO /run/user/1000/synthfarm/studio.control (" +
                kControlHelp +
                "; or synthfarm ctl --name studio COMMAND)\n"
                "synthfarm: worker 0 pid 101 plays oscillators 0-1\n"
                "synthfarm: worker 1 pid 102 plays oscillators 2-3\n");
}

TEST(StartupReport, SaysWhereTheRecordingAndTheReportGo) {
  Options options = two_workers();
  options.report_path = "/tmp/report.json";
  StartupFacts facts = live_facts();
  facts.recording_path = "/tmp/r.wav";
  const std::string text = format_startup_report(options, seeded_plan(), facts);
  const std::string recording =
      "synthfarm: recording to /tmp/r.wav (float32 WAV, 48000 Hz, 2 channels)\n"
      "synthfarm: report at exit to /tmp/report.json\n";
  const auto at = text.find(recording);
  ASSERT_NE(at, std::string::npos) << text;
  EXPECT_LT(text.find("added latency"), at) << "after the output lines";
  EXPECT_LT(at, text.find("synthfarm: control FIFO")) << "before the control line";
}

TEST(StartupReport, AnOfflineRenderSaysItsFileAndNoLatency) {
  Options options = two_workers();
  options.output_path = "/tmp/o.wav";
  options.duration_seconds = 2.5;
  options.freqs_file = "/tmp/f.txt";
  StartupFacts facts = live_facts();
  facts.sample_rate_hz = 44100;
  const std::string text = format_startup_report(options, OscillatorPlan{{1, 2, 3, 4}, {}}, facts);
  EXPECT_NE(text.find("synthfarm: frequencies from /tmp/f.txt\n"), std::string::npos) << text;
  EXPECT_NE(text.find("synthfarm: rendering 2.5 s offline to /tmp/o.wav (float32 WAV, 44100 Hz, "
                      "2 channels)\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("output:"), std::string::npos) << text;
  EXPECT_EQ(text.find("added latency"), std::string::npos) << text;
  // Offline workers do not lock their memory (render_loop.cpp): the line must not claim they did.
  EXPECT_NE(text.find("synthfarm: workers: memory not locked (offline: no deadline)\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("memory locked"), std::string::npos) << text;
}

TEST(StartupReport, PassesTheWorkersMemoryLockingFailuresOn) {
  StartupFacts facts = live_facts();
  facts.worker_memory_lock_failures = 1;
  facts.first_memory_lock_errno = ENOMEM;
  const std::string text = format_startup_report(two_workers(), seeded_plan(), facts);
  EXPECT_NE(text.find("synthfarm: " + describe_worker_memory(2, 1, ENOMEM) + "\n"),
            std::string::npos)
      << text;
}

TEST(StartupReport, SaysWhatSchedulingTheAudioThreadTheWakerAndEachWorkerGot) {
  StartupFacts facts = live_facts();
  facts.audio_thread_priority = "asks SCHED_FIFO 70";
  facts.waker_scheduling = "SCHED_FIFO 69";
  facts.worker_scheduling = {"SCHED_FIFO 68",
                             "SCHED_OTHER nice 0 (refused: Operation not permitted)"};
  std::string text = format_startup_report(two_workers(), seeded_plan(), facts);
  EXPECT_NE(
      text.find("synthfarm: scheduling: audio thread asks SCHED_FIFO 70, waker SCHED_FIFO 69, "
                "workers below the waker\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("oscillators 0-1, SCHED_FIFO 68\n"), std::string::npos) << text;
  EXPECT_NE(text.find("oscillators 2-3, SCHED_OTHER nice 0 (refused: Operation not permitted)\n"),
            std::string::npos)
      << text;

  facts.not_realtime_reason = "the audio thread is not real-time";
  facts.audio_thread_priority = "not real-time";
  facts.waker_scheduling = "SCHED_OTHER nice 0";
  text = format_startup_report(two_workers(), seeded_plan(), facts);
  EXPECT_NE(text.find("waker SCHED_OTHER nice 0, workers below the waker (none of ours "
                      "real-time: the audio thread is not real-time)\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace synthfarm
