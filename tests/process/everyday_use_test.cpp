// Everyday use, through the real executables: recording while playing, the JSON report, run-time
// parameter changes on the FIFO, `synthfarm ctl` against a running instance, and what a
// terminal shows (the live status and the offline progress bar, through a pseudo-terminal).
#include <gtest/gtest.h>
#include <pty.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "coordinator/plan/frequency_plan.h"
#include "tests/support/child_process.h"
#include "tests/support/machine_stall.h"
#include "tests/support/synthfarm_run.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wav_file.h"

namespace synthfarm {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::MachineStall;
using testing::RunQueueWait;
using testing::SynthfarmRun;
using testing::TempDir;
using testing::Wav;

Wav read_wav_or_fail(const std::string& path) {
  std::string error;
  auto wav = testing::read_wav(path, error);
  EXPECT_TRUE(wav) << error;
  return wav.value_or(Wav{});
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream file(path);
  EXPECT_TRUE(file.good()) << "no report at " << path;
  if (!file.good()) return nlohmann::json::object();
  return nlohmann::json::parse(file);
}

// Frames a live run did not play as rendered: worker underruns (played as silence) and device
// underflows (the null clock woke late and skipped a buffer). Either makes the output differ
// from an offline render, so a run that had any is repeated rather than compared.
std::uint64_t frames_not_played_as_rendered(const std::string& stdout_text) {
  std::uint64_t total = 0;
  const std::regex worker("final worker [0-9]+: .*underrun_frames=([0-9]+)");
  for (std::sregex_iterator it(stdout_text.begin(), stdout_text.end(), worker), end; it != end;
       ++it) {
    total += std::stoull((*it)[1]);
  }
  std::smatch device;
  if (std::regex_search(stdout_text, device, std::regex("final: .*device_underflows=([0-9]+)"))) {
    total += std::stoull(device[1]);
  }
  return total;
}

// The run's closing counters ("final..." lines), to say where late frames came from.
std::string final_lines(const std::string& stdout_text) {
  std::string lines;
  const std::regex final_line("(^|\n)(final[^\n]*)");
  for (std::sregex_iterator it(stdout_text.begin(), stdout_text.end(), final_line), end; it != end;
       ++it) {
    lines += (*it)[2].str() + "\n";
  }
  return lines;
}

// A live run is compared with an offline render only when it played every frame as rendered.
// While the run plays, its threads' wait for a CPU is sampled (every 20 ms, until its processes
// are gone: the kernel forgets a process's wait when it exits). A run with late frames is
// excused (and repeated by retry_while_machine_stalled) only when that wait was at least a
// buffer's time: a worker or the clock late on a machine that gave them their CPUs is a
// defect, and fails.
class LateFramesCheck {
 public:
  // Thread: the test, once the run's workers are known.
  LateFramesCheck(SynthfarmRun& run, const std::vector<pid_t>& workers)
      : run_(run), pids_(workers) {
    pids_.push_back(run.process().pid());
    sampler_ = std::thread([this] {
      while (!done_.load()) {
        const auto waited = RunQueueWait::over_whole_life(pids_).since_start();
        if (waited > waited_.load()) waited_.store(waited);
        std::this_thread::sleep_for(20ms);
      }
    });
  }
  ~LateFramesCheck() { stop(); }
  LateFramesCheck(const LateFramesCheck&) = delete;
  LateFramesCheck& operator=(const LateFramesCheck&) = delete;

  // Thread: the test, after the run exited. True when the run may be compared.
  bool played_as_rendered(MachineStall& stall) {
    stop();
    const std::uint64_t late = frames_not_played_as_rendered(run_.process().stdout_text());
    if (late == 0) return true;
    const testing::Frozen<RunQueueWait> waited{waited_.load()};
    const std::string fact = std::to_string(late) + " frames not played as rendered";
    const testing::Frozen<testing::HiddenStalls> hidden{hidden_stalls_.since_start()};
    const bool excused =
        testing::excused_by(waited, testing::kOnePeriod, fact, stall) ||
        testing::excused_by(testing::ClockLateWakes::from_final_line(run_.process().stdout_text()),
                            testing::kOnePeriod, fact, stall) ||
        testing::excused_by(hidden, testing::kOnePeriod, fact, stall);
    EXPECT_TRUE(excused) << late << " frames were not played as rendered, and the run's threads "
                         << "waited only " << testing::in_ms(waited.measured)
                         << " ms for a CPU, the clock woke on time and no CPU stalled longer "
                         << "than " << testing::in_ms(hidden.measured)
                         << " ms: a worker or the clock was late by itself. The run's final "
                         << "lines:\n"
                         << final_lines(run_.process().stdout_text());
    return false;
  }

 private:
  void stop() {
    done_.store(true);
    if (sampler_.joinable()) sampler_.join();
  }

  SynthfarmRun& run_;
  std::vector<pid_t> pids_;
  std::atomic<std::chrono::nanoseconds> waited_{std::chrono::nanoseconds(0)};
  std::atomic<bool> done_{false};
  std::thread sampler_;
  testing::HiddenStalls hidden_stalls_;  // the CPUs' own stalls while the run plays
};

// Largest |x[n] - x[n-1]| over frames [begin, end) of one channel.
float largest_step(const Wav& wav, std::uint64_t begin, std::uint64_t end, std::uint32_t channel) {
  float largest = 0.0f;
  for (std::uint64_t n = std::max<std::uint64_t>(begin, 1); n < end && n < wav.frames; ++n) {
    largest = std::max(largest, std::fabs(wav.at(n, channel) - wav.at(n - 1, channel)));
  }
  return largest;
}

double rms(const Wav& wav, std::uint64_t begin, std::uint64_t end) {
  double sum = 0.0;
  std::uint64_t count = 0;
  for (std::uint64_t i = begin * wav.channels; i < end * wav.channels && i < wav.samples.size();
       ++i) {
    sum += static_cast<double>(wav.samples[i]) * wav.samples[i];
    ++count;
  }
  return count ? std::sqrt(sum / static_cast<double>(count)) : 0.0;
}

// An offline render of `work` for `seconds`: what a live run of the same work must play.
Wav offline_reference(const std::string& name, std::vector<std::string> work,
                      const std::string& seconds) {
  SynthfarmRun offline(name);
  const std::string path = offline.file("reference.wav");
  work.insert(work.end(), {"--output", path, "--duration", seconds});
  offline.start(work);
  offline.expect_exit(0, {});
  return read_wav_or_fail(path);
}

// --- Recording

// A live run on the null clock plays exactly what an offline render of the same seed writes, as
// long as no worker was late (a late worker is played as silence, as it should be). The
// recording must hold that, sample for sample. A loaded machine can make a worker late, so a
// run with underruns while its threads measurably waited for a CPU is repeated (at most three
// times) rather than compared (LateFramesCheck).
TEST(Recording, HoldsExactlyWhatAnOfflineRenderOfTheSameSeedWrites) {
  const std::vector<std::string> work{"--workers", "2",    "--sines",  "40",
                                      "--seed",    "4242", "--kernel", "exact"};
  const Wav reference = offline_reference("rec-offline", work, "1");
  ASSERT_EQ(reference.frames, 48000u);

  testing::retry_while_machine_stalled(testing::kTimingAttempts, [&](MachineStall& stall) {
    SynthfarmRun live("rec-live");
    const std::string recorded = live.file("live.wav");
    std::vector<std::string> live_arguments = work;
    live_arguments.insert(live_arguments.end(),
                          {"--audio", "null", "--record", recorded, "--duration", "1"});
    live.start(live_arguments);
    const auto workers = live.wait_for_workers(2);
    LateFramesCheck late_frames(live, workers);
    live.expect_exit(0, workers);
    const std::string out = live.process().stdout_text();
    const auto line = live.process().wait_for_stdout(
        std::regex("recorded ([0-9]+) frames .* ([0-9]+) frames dropped"), 1s);
    ASSERT_TRUE(line) << out;
    EXPECT_EQ((*line)[2], "0") << "frames dropped";
    if (!late_frames.played_as_rendered(stall)) return;
    const Wav recording = read_wav_or_fail(recorded);
    EXPECT_EQ(std::to_string(recording.frames), (*line)[1]) << "the file holds what it says";
    EXPECT_EQ(recording.channels, reference.channels);
    EXPECT_EQ(recording.sample_rate_hz, reference.sample_rate_hz);
    // The run goes on for a few buffers after --duration (and fades out there): compare the
    // first second, which both have in full. Tolerance 0: the same float operations in the
    // same order on both paths.
    ASSERT_GE(recording.frames, reference.frames);
    std::uint64_t differing = 0;
    for (std::size_t i = 0; i < reference.samples.size(); ++i) {
      if (recording.samples[i] != reference.samples[i]) ++differing;
    }
    EXPECT_EQ(differing, 0u) << "samples that differ from the offline render";
  });
}

TEST(Recording, IsAValidWavEvenWhenTheCoordinatorIsKilled) {
  SynthfarmRun run("rec-kill");
  const std::string recorded = run.file("killed.wav");
  run.start({"--audio", "null", "--workers", "1", "--sines", "20", "--record", recorded});
  const auto workers = run.wait_for_workers(1);
  std::this_thread::sleep_for(600ms);
  run.process().send_signal(SIGKILL);
  run.process().wait(5s);
  const Wav recording = read_wav_or_fail(recorded);
  // 0.6 s were played; the header is kept up to date as the file grows.
  EXPECT_GT(recording.frames, 48000u / 10);
  for (pid_t pid : workers) {
    for (int i = 0; i < 100 && testing::process_alive(pid); ++i) std::this_thread::sleep_for(10ms);
    EXPECT_FALSE(testing::process_alive(pid));
  }
}

TEST(Recording, AnUnwritablePathFailsBeforeAnythingPlays) {
  SynthfarmRun run("rec-bad");
  run.start({"--audio", "null", "--workers", "1", "--sines", "10", "--record",
             "/nonexistent-dir/x.wav", "--duration", "1"});
  run.expect_exit(1, {});
  EXPECT_TRUE(run.process().wait_for_stderr(std::regex("/nonexistent-dir/x.wav"), 1s))
      << run.process().stderr_text();
  EXPECT_EQ(run.process().stdout_text().find("worker 0 pid"), std::string::npos)
      << "no worker should have been started";
}

// --- The JSON report

void expect_durations(const nlohmann::json& durations, const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_TRUE(durations.is_object());
  const auto min = durations.at("min_ns").get<std::uint64_t>();
  const auto median = durations.at("median_ns").get<std::uint64_t>();
  const auto p99 = durations.at("p99_ns").get<std::uint64_t>();
  const auto max = durations.at("max_ns").get<std::uint64_t>();
  EXPECT_GT(durations.at("count").get<std::uint64_t>(), 0u);
  EXPECT_GT(min, 0u);
  EXPECT_LE(min, median);
  EXPECT_LE(median, p99);
  EXPECT_LE(p99, max);
  EXPECT_GE(durations.at("mean_ns").get<double>(), static_cast<double>(min));
  EXPECT_LE(durations.at("mean_ns").get<double>(), static_cast<double>(max));
}

TEST(Report, AnOfflineRunReportsEveryCounterAtExit) {
  SynthfarmRun run("report-offline");
  const std::string report = run.file("run.json");
  run.start({"--workers", "2", "--sines", "30", "--seed", "11", "--output", run.file("o.wav"),
             "--duration", "0.5", "--report", report});
  run.expect_exit(0, {});
  const nlohmann::json json = read_json(report);
  EXPECT_EQ(json.at("reason"), "exit");
  EXPECT_EQ(json.at("exit_code"), 0);
  const auto& configuration = json.at("configuration");
  EXPECT_EQ(configuration.at("workers"), 2);
  EXPECT_EQ(configuration.at("oscillators"), 60);
  EXPECT_EQ(configuration.at("seed"), 11);
  EXPECT_EQ(configuration.at("kernel"), "fast");
  EXPECT_EQ(configuration.at("sample_rate_hz"), 48000);
  EXPECT_EQ(configuration.at("block_frames"), 256);
  EXPECT_EQ(json.at("timeline_frames"), 24000);
  EXPECT_EQ(json.at("device_underflows"), 0);
  EXPECT_EQ(json.at("nonfinite_samples_replaced"), 0);
  EXPECT_EQ(json.at("limited_samples"), 0);
  EXPECT_TRUE(json.at("recording").is_null());
  expect_durations(json.at("callback"), "callback");
  // 24000 frames in 256-frame calls, the last one short.
  EXPECT_EQ(json.at("callback").at("count"), (24000 + 255) / 256);
  ASSERT_EQ(json.at("workers").size(), 2u);
  for (const auto& worker : json.at("workers")) {
    EXPECT_EQ(worker.at("oscillators"), 30);
    EXPECT_GE(worker.at("rendered_frames").get<std::uint64_t>(), 24000u);
    EXPECT_EQ(worker.at("underrun_frames"), 0);
    EXPECT_GT(worker.at("pid").get<int>(), 0);
    expect_durations(worker.at("render_time"), "worker render time");
    EXPECT_EQ(worker.at("render_time").at("count").get<std::uint64_t>() * 256,
              worker.at("rendered_frames").get<std::uint64_t>());
  }
}

TEST(Report, ALiveRunReportsTheOutputItGotAndTheRecording) {
  SynthfarmRun run("report-live");
  const std::string report = run.file("live.json");
  run.start({"--audio", "null", "--workers", "1", "--sines", "20", "--duration", "0.5", "--record",
             run.file("r.wav"), "--report", report});
  const auto workers = run.wait_for_workers(1);
  run.expect_exit(0, workers);
  const nlohmann::json json = read_json(report);
  const auto& output = json.at("output");
  EXPECT_NE(output.at("description").get<std::string>().find("null clock"), std::string::npos);
  EXPECT_EQ(output.at("added_latency_frames"), 512);
  EXPECT_FALSE(output.at("realtime_scheduling").get<std::string>().empty());
  EXPECT_NE(output.at("realtime_scheduling"), "not known yet");
  // The waker is gone when the report is written: what it was granted must still be what it
  // was granted (a report once read the destroyed waker and printed garbage).
  for (const char* thread : {"audio_thread_scheduling", "waker_scheduling"}) {
    const auto& scheduling = output.at(thread);
    const std::string policy = scheduling.at("policy");
    EXPECT_TRUE(policy == "SCHED_FIFO" || policy == "SCHED_OTHER") << thread << ": " << policy;
    EXPECT_TRUE(scheduling.at("error").is_null()) << thread << ": " << scheduling.dump();
    EXPECT_GE(scheduling.at("priority").get<int>(), 0) << thread;
    EXPECT_LE(scheduling.at("priority").get<int>(), 99) << thread;
  }
  EXPECT_EQ(output.at("waker_scheduling").at("realtime"),
            output.at("audio_thread_scheduling").at("realtime"));
  EXPECT_NE(output.at("memory").get<std::string>().find("memory"), std::string::npos);
  // Each worker locked its memory, or the start-up report says it could not.
  EXPECT_TRUE(std::regex_search(run.process().stdout_text(),
                                std::regex("synthfarm: workers: memory (locked in all 1|not locked "
                                           "in 1 of 1)")))
      << run.process().stdout_text();
  expect_durations(json.at("callback"), "callback");
  EXPECT_GT(json.at("callback").at("max_share_of_period").get<double>(), 0.0);
  const auto& recording = json.at("recording");
  EXPECT_EQ(recording.at("path"), run.file("r.wav"));
  EXPECT_GE(recording.at("frames_written").get<std::uint64_t>(), 24000u);
  EXPECT_EQ(recording.at("frames_dropped"), 0);
  EXPECT_EQ(recording.at("error"), "");
}

TEST(Report, TheFifoCommandWritesOneWhilePlaying) {
  SynthfarmRun run("report-fifo");
  run.start({"--audio", "null", "--workers", "2", "--sines", "20"});
  const auto workers = run.wait_for_workers(2);
  const std::string report = run.file("now.json");
  run.send_command("report " + report);
  ASSERT_TRUE(run.process().wait_for_stdout(std::regex("report written to"), 5s))
      << run.process().stderr_text();
  const nlohmann::json json = read_json(report);
  EXPECT_EQ(json.at("reason"), "command");
  EXPECT_TRUE(json.at("exit_code").is_null());
  EXPECT_EQ(json.at("workers").size(), 2u);
  EXPECT_EQ(json.at("workers")[0].at("state"), "playing");
  run.send_command("report /nonexistent-dir/now.json");
  EXPECT_TRUE(run.process().wait_for_stderr(std::regex("cannot write /nonexistent-dir"), 5s));
  run.send_command("quit");
  run.expect_exit(0, workers);
}

TEST(Report, AnUnwritableReportPathFailsBeforeAnythingPlays) {
  SynthfarmRun run("report-bad");
  run.start({"--audio", "null", "--workers", "1", "--sines", "10", "--duration", "1", "--report",
             "/nonexistent-dir/r.json"});
  run.expect_exit(1, {});
  EXPECT_TRUE(run.process().wait_for_stderr(std::regex("--report /nonexistent-dir/r.json"), 1s))
      << run.process().stderr_text();
}

TEST(Report, AWorkerThatDiedStaysDeadInTheFinalReport) {
  SynthfarmRun run("report-dead");
  const std::string report = run.file("dead.json");
  run.start({"--audio", "null", "--workers", "2", "--sines", "10", "--report", report});
  const auto workers = run.wait_for_workers(2);
  ASSERT_EQ(workers.size(), 2u);
  kill(workers[1], SIGKILL);
  ASSERT_TRUE(run.process().wait_for_stderr(std::regex("worker 1 .* was killed by signal 9"), 5s));
  run.send_command("quit");
  run.expect_exit(0, workers);
  const nlohmann::json json = read_json(report);
  EXPECT_EQ(json.at("workers")[0].at("state"), "exited");
  EXPECT_TRUE(json.at("workers")[0].at("ended").is_null());
  EXPECT_EQ(json.at("workers")[1].at("state"), "dead");
  EXPECT_NE(json.at("workers")[1].at("ended").get<std::string>().find("signal 9"),
            std::string::npos);
  EXPECT_NE(run.process().stdout_text().find("final worker 1: state=dead"), std::string::npos);
}

TEST(Report, ARunThatCouldNotStartStillLeavesOneWithTheError) {
  SynthfarmRun run("report-nostart");
  const std::string report = run.file("nostart.json");
  run.start(
      {"--audio", "jack", "--workers", "1", "--sines", "10", "--duration", "1", "--report", report},
      {"JACK_DEFAULT_SERVER=synthfarm-no-such-server", "JACK_NO_START_SERVER=1"});
  run.expect_exit(1, {});
  const nlohmann::json json = read_json(report);
  EXPECT_EQ(json.at("exit_code"), 1);
  EXPECT_EQ(json.at("played"), false);
  EXPECT_NE(json.at("error").get<std::string>().find("JACK"), std::string::npos) << json;
  EXPECT_EQ(json.at("configuration").at("workers"), 1);
}

TEST(Report, APathThatIsNotUtf8IsReportedNotFatal) {
  SynthfarmRun run("report-bytes");
  const std::string recorded = run.file("caf\xe9.wav");
  const std::string report = run.file("bytes.json");
  run.start({"--audio", "null", "--workers", "1", "--sines", "10", "--duration", "0.3", "--record",
             recorded, "--report", report});
  const auto workers = run.wait_for_workers(1);
  run.expect_exit(0, workers);
  const nlohmann::json json = read_json(report);
  // The byte that is not UTF-8 is replaced (U+FFFD), the rest of the path kept.
  EXPECT_NE(json.at("recording").at("path").get<std::string>().find("caf\xef\xbf\xbd.wav"),
            std::string::npos);
  EXPECT_GT(json.at("recording").at("frames_written").get<std::uint64_t>(), 0u);
}

// --- Parameter changes, heard in a recording

// The recording of a live run equals an offline render of the same seed until the first change
// (see Recording above); after `gain -6.0206` (exactly 0.5f) and its 10 ms ramp, it equals
// that render times 0.5 exactly, until `set all mul 0` silences it. A run in which a worker was
// late is repeated, as above.
TEST(ParameterChanges, GainHalvesTheOutputExactlyAndMulZeroSilencesItWithoutAClick) {
  const std::vector<std::string> work{"--workers", "2", "--sines", "20", "--seed", "3"};
  const Wav reference = offline_reference("set-offline", work, "4");

  testing::retry_while_machine_stalled(testing::kTimingAttempts, [&](MachineStall& stall) {
    SynthfarmRun run("set-mul");
    const std::string recorded = run.file("set.wav");
    std::vector<std::string> live_arguments = work;
    live_arguments.insert(live_arguments.end(), {"--audio", "null", "--record", recorded});
    run.start(live_arguments);
    const auto workers = run.wait_for_workers(2);
    LateFramesCheck late_frames(run, workers);
    std::this_thread::sleep_for(400ms);
    run.send_command("gain -6.0206");
    ASSERT_TRUE(run.process().wait_for_stdout(std::regex("control: gain -6.0206 dB"), 5s));
    std::this_thread::sleep_for(600ms);
    run.send_command("set all mul 0");
    ASSERT_TRUE(run.process().wait_for_stdout(std::regex("control: set all mul 0"), 5s));
    std::this_thread::sleep_for(400ms);
    run.send_command("quit");
    run.expect_exit(0, workers);
    if (!late_frames.played_as_rendered(stall)) return;
    const Wav wav = read_wav_or_fail(recorded);
    ASSERT_GT(wav.frames, 48000u);
    ASSERT_LT(wav.frames, reference.frames) << "the run took longer than the reference";
    const auto first_difference = [&](std::uint64_t from, float scale) {
      std::uint64_t n = from;
      while (n < wav.frames && wav.at(n, 0) == reference.at(n, 0) * scale &&
             wav.at(n, 1) == reference.at(n, 1) * scale) {
        ++n;
      }
      return n;
    };
    const std::uint64_t gain_starts = first_difference(0, 1.0f);
    EXPECT_GT(gain_starts, 48000u / 5) << "the gain changed before it was asked for";
    // 480 frames of ramp (master_stage.h), then exactly half.
    const std::uint64_t halved_from = gain_starts + 480;
    const std::uint64_t halved_until = first_difference(halved_from, 0.5f);
    EXPECT_GT(halved_until - halved_from, 48000u / 4)
        << "from frame " << halved_from << " the output should be exactly half the render";
    // The last 0.2 s before the fade-out (5 ms, well inside the last 0.1 s) are silent: mul 0.
    const std::uint64_t end = wav.frames - 4800;
    EXPECT_EQ(rms(wav, end - 9600, end), 0.0);
    // No click anywhere: no step between samples larger than the signal's own steps before any
    // change.
    const float own = largest_step(wav, 4800, gain_starts, 0);
    EXPECT_LE(largest_step(wav, gain_starts, wav.frames, 0), own * 1.05f);
  });
}

TEST(ParameterChanges, ReseedMovesAnOscillatorToTheNewSeedsFrequency) {
  testing::retry_while_machine_stalled(testing::kTimingAttempts, [&](MachineStall& stall) {
    SynthfarmRun run("reseed");
    const std::string recorded = run.file("reseed.wav");
    // One oscillator on one channel, so the signal's frequency is that oscillator's.
    run.start({"--audio", "null", "--workers", "1", "--sines", "1", "--channels", "1", "--seed",
               "1", "--feedback", "0", "--record", recorded, "--report", run.file("reseed.json")});
    const auto workers = run.wait_for_workers(1);
    LateFramesCheck late_frames(run, workers);  // a late worker's silence is a jump too
    std::this_thread::sleep_for(500ms);
    run.send_command("reseed all 2");
    ASSERT_TRUE(run.process().wait_for_stdout(std::regex("control: reseed all 2"), 5s));
    std::this_thread::sleep_for(500ms);
    run.send_command("quit");
    run.expect_exit(0, workers);
    // The report says the start seed no longer describes what played last.
    const nlohmann::json report = read_json(run.file("reseed.json"));
    ASSERT_EQ(report.at("reseeds").size(), 1u);
    EXPECT_EQ(report.at("reseeds")[0].at("seed"), 2);
    EXPECT_EQ(report.at("reseeds")[0].at("workers"), "all");
    EXPECT_GT(report.at("reseeds")[0].at("at_seconds").get<double>(), 0.1);
    if (!late_frames.played_as_rendered(stall)) return;
    const Wav wav = read_wav_or_fail(recorded);
    const double before_hz = draw_frequencies_hz(1, 1, 400.0, 800.0)[0];
    const double after_hz = draw_frequencies_hz(2, 1, 400.0, 800.0)[0];
    ASSERT_GT(std::fabs(before_hz - after_hz), 20.0) << "the seeds must give distinct frequencies";
    // Frequency from upward zero crossings over 0.3 s: within 1 % (a crossing's timing is off by
    // at most one sample in 14,400).
    const auto measured_hz = [&](std::uint64_t begin) {
      std::uint64_t first = 0, last = 0, crossings = 0;
      for (std::uint64_t n = begin + 1; n < begin + 14400; ++n) {
        if (wav.at(n - 1, 0) < 0.0f && wav.at(n, 0) >= 0.0f) {
          if (crossings++ == 0) first = n;
          last = n;
        }
      }
      return crossings > 1
                 ? 48000.0 * static_cast<double>(crossings - 1) / static_cast<double>(last - first)
                 : 0.0;
    };
    EXPECT_NEAR(measured_hz(4800), before_hz, before_hz / 100);
    EXPECT_NEAR(measured_hz(wav.frames - 4800 - 14400), after_hz, after_hz / 100);
    const float own = largest_step(wav, 4800, 19200, 0);
    EXPECT_LE(largest_step(wav, 19200, wav.frames - 480, 0), own * 2.0f)
        << "a frequency change keeps the phase: no jump";
  });
}

TEST(ParameterChanges, BadValuesAreRefusedAndChangeNothing) {
  SynthfarmRun run("set-bad");
  run.start({"--audio", "null", "--workers", "2", "--sines", "10"});
  const auto workers = run.wait_for_workers(2);
  run.send_command("set all feedback 7");
  EXPECT_TRUE(run.process().wait_for_stderr(std::regex("feedback 7.*nothing changed"), 5s))
      << run.process().stderr_text();
  run.send_command("set 5 mul 0.1");
  EXPECT_TRUE(run.process().wait_for_stderr(std::regex("no worker 5"), 5s));
  run.send_command("status");
  EXPECT_TRUE(run.process().wait_for_stdout(std::regex("status worker 1: .*feedback=0.1 "), 5s))
      << run.process().stdout_text();
  run.send_command("quit");
  run.expect_exit(0, workers);
}

// --- synthfarm ctl against a running instance

struct CtlResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

CtlResult ctl(const std::string& control_path, const std::vector<std::string>& command) {
  std::vector<std::string> argv{testing::built_program("synthfarm"), "ctl", "--control",
                                control_path};
  argv.insert(argv.end(), command.begin(), command.end());
  ChildProcess process(argv);
  CtlResult result;
  result.exit_code = process.wait_exit_code(10s).value_or(-1000);
  result.out = process.stdout_text();
  result.err = process.stderr_text();
  return result;
}

TEST(Ctl, GetsTheAnswerOfARunningInstanceAndItsExitCode) {
  SynthfarmRun run("ctl-live");
  run.start({"--audio", "null", "--workers", "2", "--sines", "10"});
  const auto workers = run.wait_for_workers(2);
  const CtlResult status = ctl(run.control_path(), {"status"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("status worker 1: state=playing"), std::string::npos) << status.out;
  EXPECT_EQ(status.out.find("synthfarm-reply"), std::string::npos) << "the protocol line shows";

  const CtlResult stop = ctl(run.control_path(), {"stop", "1"});
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_NE(stop.out.find("control: stop 1"), std::string::npos) << stop.out;

  const CtlResult bad = ctl(run.control_path(), {"stop", "9"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("there is no worker 9"), std::string::npos) << bad.err;

  const CtlResult quit = ctl(run.control_path(), {"quit"});
  EXPECT_EQ(quit.exit_code, 0) << quit.err;
  run.expect_exit(0, workers);
  // Every reply FIFO was removed.
  TempDir unused;
  const std::string directory = run.control_path().substr(0, run.control_path().rfind('/'));
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    EXPECT_EQ(entry.path().filename().string().find(".reply"), std::string::npos) << entry.path();
  }
}

TEST(ControlReplies, AReplyPathThatIsNotAFifoOfOursChangesNothing) {
  SynthfarmRun run("reply-bad");
  run.start({"--audio", "null", "--workers", "1", "--sines", "10"});
  const auto workers = run.wait_for_workers(1);
  const std::string plain_file = run.file("not-a-fifo");
  std::ofstream(plain_file) << "precious\n";
  run.send_command("reply-to " + plain_file + " stop 0");
  EXPECT_TRUE(run.process().wait_for_stderr(std::regex("is not a FIFO of this user; nothing"), 5s))
      << run.process().stderr_text();
  run.send_command("reply-to /nonexistent/reply quit");
  EXPECT_TRUE(run.process().wait_for_stderr(std::regex("cannot open the reply FIFO"), 5s));
  std::ifstream kept(plain_file);
  std::string content;
  std::getline(kept, content);
  EXPECT_EQ(content, "precious") << "the file was written to";
  run.send_command("status");
  EXPECT_TRUE(run.process().wait_for_stdout(std::regex("status worker 0: state=playing"), 5s))
      << "neither the stop nor the quit may have been carried out";
  run.send_command("quit");
  run.expect_exit(0, workers);
}

TEST(ControlReplies, ALineReadTogetherWithQuitIsAnsweredNotLostOrCarriedOut) {
  SynthfarmRun run("reply-quit");
  run.start({"--audio", "null", "--workers", "1", "--sines", "10"});
  const auto workers = run.wait_for_workers(1);
  const std::string reply = run.file("late.reply");
  ASSERT_EQ(mkfifo(reply.c_str(), 0600), 0);
  const int reply_fd = open(reply.c_str(), O_RDWR | O_NONBLOCK);
  ASSERT_GE(reply_fd, 0);
  // Both lines in one write: the coordinator reads them together.
  run.send_command("quit\nreply-to " + reply + " stop 0");
  run.expect_exit(0, workers);
  char buffer[512] = {};
  const ssize_t got = read(reply_fd, buffer, sizeof buffer - 1);
  close(reply_fd);
  ASSERT_GT(got, 0) << "no answer";
  const std::string answer(buffer, static_cast<std::size_t>(got));
  EXPECT_NE(answer.find("quitting"), std::string::npos) << answer;
  EXPECT_NE(answer.find("synthfarm-reply: error"), std::string::npos) << answer;
}

// --- What a terminal shows

// Runs a program with stdout and stderr on a new pseudo-terminal and collects what it writes.
class PtyProcess {
 public:
  // An 80-column terminal, the narrowest common one.
  explicit PtyProcess(const std::vector<std::string>& argv, unsigned short columns = 80) {
    winsize size{};
    size.ws_row = 40;
    size.ws_col = columns;
    pid_ = forkpty(&master_, nullptr, nullptr, &size);
    if (pid_ == 0) {
      std::vector<char*> args;
      for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    reader_ = std::thread([this] {
      char buffer[4096];
      while (true) {
        const ssize_t got = read(master_, buffer, sizeof buffer);
        if (got <= 0) break;  // EIO once the child side is closed
        std::lock_guard lock(mutex_);
        text_.append(buffer, static_cast<std::size_t>(got));
      }
    });
  }
  ~PtyProcess() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (reader_.joinable()) reader_.join();
    close(master_);
  }
  pid_t pid() const { return pid_; }
  std::string text() {
    std::lock_guard lock(mutex_);
    return text_;
  }
  bool wait_for(const std::regex& pattern, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (std::regex_search(text(), pattern)) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  int wait_exit_code() {
    int status = 0;
    waitpid(pid_, &status, 0);
    reaped_ = true;
    if (reader_.joinable()) reader_.join();
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  int master_ = -1;
  bool reaped_ = false;
  std::thread reader_;
  std::mutex mutex_;
  std::string text_;
};

TEST(LiveStatus, IsRedrawnInPlaceOnATerminalAndShowsADeadWorker) {
  TempDir directory;
  const std::string control = directory.file("control");
  PtyProcess run({testing::built_program("synthfarm"), "--name",
                  testing::unique_instance_name("pty-live"), "--control", control, "--audio",
                  "null", "--workers", "2", "--sines", "20"});
  const std::regex worker_pid("worker 1 pid ([0-9]+)");
  ASSERT_TRUE(run.wait_for(worker_pid, 10s)) << run.text();
  std::smatch match;
  const std::string start = run.text();
  ASSERT_TRUE(std::regex_search(start, match, worker_pid));
  const pid_t worker_1 = std::stoi(match[1]);
  // The table: a header line with the callback's load, and one line per worker.
  ASSERT_TRUE(
      run.wait_for(std::regex("callback avg [0-9.]+% max [0-9.]+% of the 5.33 ms period"), 5s))
      << run.text();
  ASSERT_TRUE(run.wait_for(std::regex("\\s1  playing +[0-9.]+% +[0-9.]+% +0"), 5s)) << run.text();
  // Redrawn in place: the cursor goes back up over the table's lines (3 + 2 workers).
  ASSERT_TRUE(run.wait_for(std::regex("\033\\[5A"), 5s)) << run.text();
  kill(worker_1, SIGKILL);
  EXPECT_TRUE(run.wait_for(std::regex("\\s1  dead "), 5s)) << run.text();
  // The death message is not overdrawn: it stands on its own line.
  EXPECT_TRUE(run.wait_for(std::regex("synthfarm: worker 1 \\(pid [0-9]+\\) was killed"), 5s))
      << run.text();
  const int fd = open(control.c_str(), O_WRONLY | O_NONBLOCK);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "quit\n", 5), 5);
  close(fd);
  EXPECT_EQ(run.wait_exit_code(), 0) << run.text();
  // Every line the table drew fits the 80 columns: a wrapped line would leave a copy behind at
  // each redraw.
  const std::string text = run.text();
  const std::regex drawn_line("\r\033\\[K([^\r\n]*)\r?\n");
  int drawn = 0;
  for (std::sregex_iterator it(text.begin(), text.end(), drawn_line), end; it != end; ++it) {
    EXPECT_LT((*it)[1].length(), 80) << (*it)[1];
    ++drawn;
  }
  EXPECT_GE(drawn, 5) << "the table was never drawn";
}

TEST(LiveStatus, QuietDrawsNothing) {
  TempDir directory;
  PtyProcess run({testing::built_program("synthfarm"), "--name",
                  testing::unique_instance_name("pty-quiet"), "--control",
                  directory.file("control"), "--audio", "null", "--workers", "1", "--sines", "10",
                  "--duration", "1", "--quiet"});
  EXPECT_EQ(run.wait_exit_code(), 0) << run.text();
  EXPECT_EQ(run.text().find("\033["), std::string::npos) << run.text();
  EXPECT_NE(run.text().find("final: "), std::string::npos);
}

TEST(Progress, AnOfflineRenderOnATerminalShowsABar) {
  TempDir directory;
  PtyProcess run({testing::built_program("synthfarm"), "--name",
                  testing::unique_instance_name("pty-progress"), "--control",
                  directory.file("control"), "--workers", "1", "--sines", "2000", "--kernel",
                  "exact", "--output", directory.file("p.wav"), "--duration", "20"});
  EXPECT_EQ(run.wait_exit_code(), 0) << run.text();
  EXPECT_TRUE(std::regex_search(
      run.text(), std::regex("\\[#* *\\] +[0-9]+%  [0-9.]+ of 20.0 s  [0-9.]+x real time")))
      << run.text();
  EXPECT_NE(run.text().find("wrote 960000 frames"), std::string::npos) << run.text();
}

}  // namespace
}  // namespace synthfarm
