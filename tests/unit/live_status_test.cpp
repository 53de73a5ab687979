#include "coordinator/report/live_status.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <cstdio>
#include <memory>
#include <string>

namespace synthfarm {
namespace {

// A reading with `workers` workers, each having rendered `blocks` blocks of `render_ns` and the
// callback `calls` calls of `callback_ns`, at 48 kHz and 256-frame buffers (5.333 ms).
RunStatistics reading(std::uint32_t workers, std::uint64_t blocks, std::uint64_t render_ns,
                      std::uint64_t calls, std::uint64_t callback_ns) {
  RunStatistics run;
  run.sample_rate_hz = 48000;
  run.block_frames = 256;
  run.timeline_frames = calls * 256;
  run.callbacks = calls;
  auto callback = std::make_unique<DurationHistogram>();
  for (std::uint64_t i = 0; i < calls; ++i) callback->record(callback_ns);
  run.callback = DurationSummary::read(*callback);
  for (std::uint32_t w = 0; w < workers; ++w) {
    WorkerStatistics worker;
    worker.index = w;
    worker.state = "playing";
    auto render = std::make_unique<DurationHistogram>();
    for (std::uint64_t i = 0; i < blocks; ++i) render->record(render_ns);
    worker.render_time = DurationSummary::read(*render);
    run.workers.push_back(worker);
  }
  return run;
}

TEST(LiveStatus, LoadsAreTheLastIntervalsRenderTimeAgainstThePeriod) {
  const RunStatistics earlier = reading(2, 100, 1'000'000, 100, 10'000);
  // 188 more blocks (one second), now taking 2.6667 ms each: half the period.
  RunStatistics now = reading(2, 100, 1'000'000, 100, 10'000);
  auto render = std::make_unique<DurationHistogram>();
  for (int i = 0; i < 100; ++i) render->record(1'000'000);
  for (int i = 0; i < 188; ++i) render->record(2'666'667);
  now.workers[1].render_time = DurationSummary::read(*render);
  const auto lines = format_live_status(now, earlier, 10.7);
  ASSERT_EQ(lines.size(), 5u);
  // Worker 0 rendered nothing since: no load to show.
  EXPECT_NE(lines[3].find("      0  playing          -         -"), std::string::npos) << lines[3];
  // Worker 1: 50 % on average; the maximum is its bucket's top, within 1/16.
  EXPECT_NE(lines[4].find("50.0%"), std::string::npos) << lines[4];
}

TEST(LiveStatus, TheHeaderShowsTheCallbackLoadLatencyAndUnderflows) {
  const RunStatistics earlier = reading(1, 0, 0, 0, 0);
  RunStatistics now = reading(1, 0, 0, 188, 53'333);
  now.device_underflows = 3;
  now.gain_db = -6.0;
  const auto lines = format_live_status(now, earlier, 10.7);
  const std::string header = lines[0] + "\n" + lines[1];
  EXPECT_NE(header.find("callback avg 1.00% max"), std::string::npos) << header;
  EXPECT_NE(header.find("of the 5.33 ms period"), std::string::npos) << header;
  EXPECT_NE(header.find("device underflows 3"), std::string::npos) << header;
  EXPECT_NE(header.find("latency 10.7 ms"), std::string::npos) << header;
  EXPECT_NE(header.find("gain -6.0 dB"), std::string::npos) << header;
  // It fits an 80-column terminal, like every line of the table.
  for (const std::string& line : lines) EXPECT_LT(line.size(), 80u) << line;
}

TEST(LiveStatus, ManyWorkersAreSummedUpBelowTheFirstOnes) {
  RunStatistics now = reading(40, 10, 1'000'000, 10, 1'000);
  now.workers[30].state = "dead";
  now.workers[31].underrun_frames = 512;
  const auto lines = format_live_status(now, reading(40, 0, 0, 0, 0), 10.7, 16);
  ASSERT_EQ(lines.size(), 3u + 16u + 1u);
  EXPECT_NE(lines.back().find("24 more workers (1 dead, 23 playing)"), std::string::npos)
      << lines.back();
  EXPECT_NE(lines.back().find("underruns 512"), std::string::npos) << lines.back();
  EXPECT_EQ(lines.back().find("NEAR RT LIMIT"), std::string::npos) << lines.back();
}

TEST(LiveStatus, AWorkerNearThrottlingBelowTheTableIsCountedOnItsSummaryLine) {
  // 4.9 ms of the 5.33 ms period (92 %) against a 95 % share, for every worker.
  RunStatistics now = reading(20, 188, 4'900'000, 188, 10'000);
  now.realtime_throttle_share = 0.95;
  for (WorkerStatistics& worker : now.workers) worker.scheduling = {SCHED_OTHER, 0, 0, 0};
  now.workers[17].scheduling = {SCHED_FIFO, 68, 0, 0};
  now.workers[18].scheduling = {SCHED_FIFO, 68, 0, 0};
  const auto lines = format_live_status(now, reading(20, 0, 0, 0, 0), 10.7, 16);
  ASSERT_EQ(lines.size(), 3u + 16u + 1u);
  EXPECT_NE(lines.back().find("4 more workers"), std::string::npos) << lines.back();
  EXPECT_NE(lines.back().find(", 2 NEAR RT LIMIT;"), std::string::npos) << lines.back();
  EXPECT_LT(lines.back().size(), 100u) << lines.back();
}

TEST(LiveStatus, EachWorkersSchedulingIsShownAndARealTimeOneNearThrottlingIsFlagged) {
  const RunStatistics earlier = reading(2, 0, 0, 0, 0);
  // 4.9 ms of the 5.33 ms period (92 %) over the last interval, against a 95 % share.
  RunStatistics now = reading(2, 188, 4'900'000, 188, 10'000);
  now.realtime_throttle_share = 0.95;
  now.workers[0].scheduling = {SCHED_FIFO, 68, 0, 0};
  now.workers[1].scheduling = {SCHED_OTHER, 0, -10, 0};
  const auto lines = format_live_status(now, earlier, 10.7);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_NE(lines[3].find("FIFO 68   NEAR RT LIMIT"), std::string::npos) << lines[3];
  // Not real-time: the kernel never throttles it, however busy.
  EXPECT_NE(lines[4].find("nice -10"), std::string::npos) << lines[4];
  EXPECT_EQ(lines[4].find("NEAR RT LIMIT"), std::string::npos) << lines[4];
  for (const std::string& line : lines) EXPECT_LT(line.size(), 80u) << line;
  // The same worker at half the period is not flagged.
  now = reading(2, 188, 2'666'667, 188, 10'000);
  now.realtime_throttle_share = 0.95;
  now.workers[0].scheduling = {SCHED_FIFO, 68, 0, 0};
  EXPECT_EQ(format_live_status(now, earlier, 10.7)[3].find("NEAR RT LIMIT"), std::string::npos);
}

TEST(Progress, TheBarShowsTheShareTheSpeedAndTheTimeLeft) {
  const std::string bar = format_progress(5.0, 20.0, 0.5, 20);
  EXPECT_EQ(bar.substr(0, 22), "[#####               ]");
  EXPECT_NE(bar.find(" 25%"), std::string::npos) << bar;
  EXPECT_NE(bar.find("5.0 of 20.0 s"), std::string::npos) << bar;
  EXPECT_NE(bar.find("10.0x real time"), std::string::npos) << bar;
  EXPECT_NE(bar.find("1.5 s left"), std::string::npos) << bar;
  EXPECT_EQ(format_progress(20.0, 20.0, 1.0, 10).substr(0, 12), "[##########]");
}

TEST(TerminalStatus, RedrawsOverThePreviousTableAndClearsIt) {
  char* buffer = nullptr;
  std::size_t size = 0;
  std::FILE* memory = open_memstream(&buffer, &size);
  ASSERT_NE(memory, nullptr);
  {
    TerminalStatus terminal(memory);
    terminal.update_live(reading(2, 1, 1000, 1, 1000), 10.7);
    terminal.update_live(reading(2, 2, 1000, 2, 1000), 10.7);
    terminal.clear();
  }
  std::fclose(memory);
  const std::string text(buffer, size);
  std::free(buffer);
  // The second drawing starts by going up over the first one's 5 lines; clear() does it again
  // and erases everything below.
  EXPECT_NE(text.find("\033[5A"), std::string::npos);
  EXPECT_EQ(text.rfind("\033[5A\r\033[J"), text.size() - 8);
}

}  // namespace
}  // namespace synthfarm
