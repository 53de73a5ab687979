#include "coordinator/report/run_report.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/stat.h>
#include <cerrno>
#include <cstring>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "tests/support/temp_dir.h"

namespace synthfarm {
namespace {

struct Fixture {
  Options options;
  OscillatorPlan plan;
  RunStatistics statistics;
  RunReportContext context;

  Fixture() {
    options.workers = 1;
    options.kernel = KernelKind::kExact;
    options.record_path = "/tmp/r.wav";
    options.buffers = 3;
    options.cpus = {1, 0};
    plan.frequencies_hz = {440.0, 550.0, 660.0};
    plan.seed = 99;
    statistics.sample_rate_hz = 48000;
    statistics.block_frames = 256;
    statistics.timeline_frames = 48000;
    statistics.callbacks = 188;
    statistics.device_underflows = 2;
    statistics.server_xruns = 9;
    statistics.nonfinite_samples = 5;
    statistics.limited_samples = 7;
    auto callback = std::make_unique<DurationHistogram>();
    for (int i = 1; i <= 100; ++i) callback->record(1000 * i);  // 1 to 100 us
    statistics.callback = DurationSummary::read(*callback);
    WorkerStatistics worker;
    worker.pid = 1234;
    worker.state = "dead";
    worker.oscillators = 3;
    worker.rendered_frames = 48128;
    worker.underrun_frames = 256;
    worker.late_blocks = 1;
    auto render = std::make_unique<DurationHistogram>();
    render->record(2'666'667);
    worker.render_time = DurationSummary::read(*render);
    statistics.workers.push_back(worker);
    context.options = &options;
    context.plan = &plan;
    context.output = "null clock (no device), 48000 Hz, 256 frames per buffer";
    context.added_latency_frames = 512;
    context.realtime_scheduling = "SCHED_FIFO priority 70 (real-time)";
    context.memory = "memory: locked (mlockall)";
    context.recording = RunReportContext::Recording{"/tmp/r.wav", 47000, 3, ""};
  }
};

TEST(RunReport, HoldsTheConfigurationTheOutputAndEveryCounter) {
  Fixture f;
  const auto json = nlohmann::json::parse(format_run_report(f.context, f.statistics, "exit", 1));
  EXPECT_EQ(json.at("reason"), "exit");
  EXPECT_EQ(json.at("exit_code"), 1);
  EXPECT_EQ(json.at("configuration").at("oscillators"), 3);
  EXPECT_EQ(json.at("configuration").at("seed"), 99);
  EXPECT_EQ(json.at("configuration").at("kernel"), "exact");
  EXPECT_EQ(json.at("configuration").at("buffers"), 3);
  EXPECT_EQ(json.at("configuration").at("cpus"), nlohmann::json::array({1, 0}));
  EXPECT_EQ(json.at("output").at("added_latency_frames"), 512);
  EXPECT_NEAR(json.at("output").at("added_latency_ms").get<double>(), 10.667, 0.001);
  EXPECT_EQ(json.at("output").at("realtime_scheduling"), "SCHED_FIFO priority 70 (real-time)");
  EXPECT_EQ(json.at("device_underflows"), 2);
  EXPECT_EQ(json.at("server_xruns"), 9);
  EXPECT_EQ(json.at("nonfinite_samples_replaced"), 5);
  EXPECT_EQ(json.at("limited_samples"), 7);
  EXPECT_DOUBLE_EQ(json.at("seconds").get<double>(), 1.0);
  const auto& callback = json.at("callback");
  EXPECT_EQ(callback.at("count"), 100);
  EXPECT_EQ(callback.at("min_ns"), 1000);
  EXPECT_EQ(callback.at("max_ns"), 100000);
  // Percentiles are bucket midpoints: within 1/32 of the true 50 us and 99 us.
  EXPECT_NEAR(callback.at("median_ns").get<double>(), 50'000, 50'000 / 32.0);
  EXPECT_NEAR(callback.at("p99_ns").get<double>(), 99'000, 99'000 / 32.0);
  EXPECT_NEAR(callback.at("max_share_of_period").get<double>(), 100'000 / 5'333'333.3, 1e-9);
  const auto& worker = json.at("workers").at(0);
  EXPECT_EQ(worker.at("state"), "dead");
  EXPECT_EQ(worker.at("underrun_frames"), 256);
  EXPECT_EQ(worker.at("late_blocks"), 1);
  EXPECT_NEAR(worker.at("render_time").at("mean_share_of_period").get<double>(), 0.5, 1e-6);
  EXPECT_EQ(json.at("recording").at("frames_dropped"), 3);
}

TEST(RunReport, SaysEachThreadsSchedulingAndFlagsAWorkerNearRealTimeThrottling) {
  Fixture f;
  f.statistics.audio_thread = {SCHED_FIFO, 70, 0, 0};
  f.statistics.waker = {SCHED_FIFO, 69, 0, 0};
  f.statistics.realtime_throttle_share = 0.95;
  f.statistics.workers[0].scheduling = {SCHED_FIFO, 68, 0, 0};
  auto render = std::make_unique<DurationHistogram>();
  render->record(5'000'000);  // 94 % of the period: past 90 % of the 0.95 share
  f.statistics.workers[0].render_time = DurationSummary::read(*render);
  WorkerStatistics refused = f.statistics.workers[0];
  refused.scheduling = {SCHED_OTHER, 0, -10, EPERM};
  f.statistics.workers.push_back(refused);
  const auto json = nlohmann::json::parse(format_run_report(f.context, f.statistics, "exit", 0));
  const auto& output = json.at("output");
  EXPECT_EQ(output.at("audio_thread_scheduling").at("policy"), "SCHED_FIFO");
  EXPECT_EQ(output.at("audio_thread_scheduling").at("priority"), 70);
  EXPECT_EQ(output.at("waker_scheduling").at("priority"), 69);
  EXPECT_DOUBLE_EQ(output.at("realtime_throttle_share").get<double>(), 0.95);
  const auto& worker = json.at("workers").at(0);
  EXPECT_EQ(worker.at("scheduling").at("policy"), "SCHED_FIFO");
  EXPECT_EQ(worker.at("scheduling").at("realtime"), true);
  EXPECT_EQ(worker.at("scheduling").at("priority"), 68);
  EXPECT_TRUE(worker.at("scheduling").at("error").is_null());
  EXPECT_EQ(worker.at("near_realtime_throttling"), true);
  const auto& other = json.at("workers").at(1);
  EXPECT_EQ(other.at("scheduling").at("policy"), "SCHED_OTHER");
  EXPECT_EQ(other.at("scheduling").at("nice"), -10);
  EXPECT_EQ(other.at("scheduling").at("error"), std::strerror(EPERM));
  EXPECT_EQ(other.at("near_realtime_throttling"), false);  // SCHED_OTHER is never throttled
}

TEST(RunReport, AReportWhilePlayingHasNoExitCodeAndNoRecordingWhenNoneRuns) {
  Fixture f;
  f.context.recording.reset();
  f.plan.seed.reset();
  const auto json =
      nlohmann::json::parse(format_run_report(f.context, f.statistics, "command", std::nullopt));
  EXPECT_TRUE(json.at("exit_code").is_null());
  EXPECT_TRUE(json.at("recording").is_null());
  EXPECT_TRUE(json.at("configuration").at("seed").is_null());
}

TEST(RunReport, IsWrittenWholeOrNotAtAll) {
  testing::TempDir directory;
  const std::string path = directory.file("report.json");
  std::string error;
  ASSERT_TRUE(write_text_file_atomically(path, "{\"a\": 1}\n", error)) << error;
  std::ifstream file(path);
  EXPECT_EQ(nlohmann::json::parse(file).at("a"), 1);
  EXPECT_FALSE(write_text_file_atomically(directory.file("missing/report.json"), "{}", error));
  EXPECT_NE(error.find("missing/report.json"), std::string::npos) << error;
}

TEST(RunReport, APathIsCheckedBeforeTheRun) {
  testing::TempDir directory;
  std::string error;
  EXPECT_TRUE(check_file_can_be_created(directory.file("r.json"), "--report", error)) << error;
  EXPECT_TRUE(check_file_can_be_created("relative.json", "--report", error)) << error;
  EXPECT_FALSE(check_file_can_be_created(directory.file("no/r.json"), "--report", error));
  EXPECT_NE(error.find("does not exist"), std::string::npos) << error;
  EXPECT_FALSE(check_file_can_be_created(directory.path(), "--report", error));
  EXPECT_NE(error.find("is a directory"), std::string::npos) << error;
}

}  // namespace
}  // namespace synthfarm
