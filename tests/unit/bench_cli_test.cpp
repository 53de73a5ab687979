// synthfarm-bench's command line (bench/bench_cli.h): capacity's latency, scheduling, load and
// placement options, and what they refuse.

#include "bench/bench_cli.h"

#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "bench/capacity.h"

namespace synthfarm::bench {
namespace {

BenchCli parse(std::vector<std::string> args) {
  std::vector<char*> argv;
  static std::string program = "synthfarm-bench";
  argv.push_back(program.data());
  for (std::string& arg : args) argv.push_back(arg.data());
  return parse_bench_cli(static_cast<int>(argv.size()), argv.data());
}

// Parses and keeps the strings alive: parse_bench_cli copies what it keeps.
CapacityOptions capacity(std::vector<std::string> args) {
  args.insert(args.begin(), "capacity");
  const BenchCli cli = parse(args);
  EXPECT_TRUE(std::holds_alternative<CapacityCommand>(cli))
      << (std::holds_alternative<CliError>(cli) ? std::get<CliError>(cli).message : "");
  return std::holds_alternative<CapacityCommand>(cli) ? std::get<CapacityCommand>(cli).options
                                                      : CapacityOptions{};
}

std::string refusal(std::vector<std::string> args) {
  args.insert(args.begin(), "capacity");
  const BenchCli cli = parse(args);
  EXPECT_TRUE(std::holds_alternative<CliError>(cli));
  return std::holds_alternative<CliError>(cli) ? std::get<CliError>(cli).message : "";
}

TEST(BenchCapacityCli, DefaultsToTwoThreeAndFourBuffersInRealTimeUnloadedUnpinned) {
  const CapacityOptions options = capacity({});
  EXPECT_EQ(options.buffers, (std::vector<std::uint32_t>{2, 3, 4}));
  EXPECT_EQ(options.realtime, CapacityOptions::Realtime::kOn);
  EXPECT_EQ(options.background_load, 0u);
  EXPECT_TRUE(options.cpus.empty());
}

TEST(BenchCapacityCli, StoresTheNewOptions) {
  const CapacityOptions options = capacity(
      {"--buffers", "4,2", "--realtime", "both", "--background-load", "2", "--cpus", "0-1"});
  EXPECT_EQ(options.buffers, (std::vector<std::uint32_t>{4, 2}));
  EXPECT_EQ(options.realtime, CapacityOptions::Realtime::kBoth);
  EXPECT_EQ(options.background_load, 2u);
  EXPECT_EQ(options.cpus, "0-1");
  EXPECT_EQ(capacity({"--realtime", "off"}).realtime, CapacityOptions::Realtime::kOff);
}

TEST(BenchCapacityCli, RefusesValuesOutOfRangeNamingTheOption) {
  EXPECT_NE(refusal({"--buffers", "0"}).find("--buffers needs"), std::string::npos);
  EXPECT_NE(refusal({"--buffers", "2,17"}).find("1 to 16"), std::string::npos);
  EXPECT_NE(refusal({"--realtime", "yes"}).find("on, off or both"), std::string::npos);
  EXPECT_NE(refusal({"--background-load", "65"}).find("0 to 64"), std::string::npos);
  EXPECT_NE(refusal({"--cpus", "1-0"}).find("runs backwards"), std::string::npos);
  EXPECT_NE(refusal({"--cpus"}).find("needs a value"), std::string::npos);
}

// --wake-probe: five seconds of idle wake-ups before the searches unless told otherwise; 0
// skips it, and a probe too short to say anything is refused.
TEST(BenchCapacityCli, ProbesIdleWakeUpsForFiveSecondsUnlessToldOtherwise) {
  EXPECT_EQ(capacity({}).wake_probe_seconds, 5.0);
  EXPECT_EQ(capacity({"--wake-probe", "0"}).wake_probe_seconds, 0.0);
  EXPECT_EQ(capacity({"--wake-probe", "30"}).wake_probe_seconds, 30.0);
  EXPECT_NE(refusal({"--wake-probe", "0.01"}).find("0 (no probe) or a number of seconds"),
            std::string::npos);
  EXPECT_EQ(capacity({"--wake-probe", "0.05"}).wake_probe_seconds, 0.05);
  EXPECT_EQ(capacity({"--wake-probe", "120"}).wake_probe_seconds, 120.0);
  EXPECT_NE(refusal({"--wake-probe", "121"}).find("0.05 to 120"), std::string::npos);
  EXPECT_NE(refusal({"--wake-probe", "nan"}).find("--wake-probe needs"), std::string::npos);
  EXPECT_NE(refusal({"--wake-probe", "-1"}).find("--wake-probe needs"), std::string::npos);
}

// --audio (issue 14): the null clock unless jack is asked for; jack combines with the
// latency, scheduling and load options (each probe runs on the server in every condition).
TEST(BenchCapacityCli, PlaysOnTheNullClockUnlessJackIsAsked) {
  EXPECT_EQ(capacity({}).audio, CapacityOptions::Audio::kNull);
  EXPECT_EQ(capacity({"--audio", "null"}).audio, CapacityOptions::Audio::kNull);
  const CapacityOptions jack = capacity(
      {"--audio", "jack", "--buffers", "2", "--realtime", "both", "--background-load", "1"});
  EXPECT_EQ(jack.audio, CapacityOptions::Audio::kJack);
  EXPECT_EQ(jack.buffers, (std::vector<std::uint32_t>{2}));
  EXPECT_EQ(jack.realtime, CapacityOptions::Realtime::kBoth);
  EXPECT_EQ(jack.background_load, 1u);
  // The last one given counts, as for the other options.
  EXPECT_EQ(capacity({"--audio", "jack", "--audio", "null"}).audio, CapacityOptions::Audio::kNull);
}

TEST(BenchCapacityCli, RefusesAnAudioOtherThanNullOrJack) {
  EXPECT_NE(refusal({"--audio", "alsa"}).find("--audio needs null or jack, not 'alsa'"),
            std::string::npos);
  EXPECT_NE(refusal({"--audio", "JACK"}).find("null or jack"), std::string::npos);
  EXPECT_NE(refusal({"--audio"}).find("--audio needs a value"), std::string::npos);
  // Only capacity plays live: the other commands do not take it.
  const BenchCli mix = parse({"mix", "--audio", "jack"});
  ASSERT_TRUE(std::holds_alternative<CliError>(mix));
  EXPECT_NE(std::get<CliError>(mix).message.find("unknown option '--audio' for mix"),
            std::string::npos);
}

TEST(BenchCapacityCli, HelpNamesTheAudioOption) {
  const BenchCli help = parse({"capacity", "--help"});
  ASSERT_TRUE(std::holds_alternative<HelpRequest>(help));
  const std::string text = std::get<HelpRequest>(help).text;
  EXPECT_NE(text.find("--audio A"), std::string::npos);
  EXPECT_NE(text.find("JACK_DEFAULT_SERVER"), std::string::npos);
}

TEST(SearchConditions, BuffersWithinRealTimeWithinLoad) {
  CapacityOptions options;
  options.buffers = {2, 4};
  EXPECT_EQ(search_conditions(options).size(), 2u);
  options.background_load = 3;
  options.realtime = CapacityOptions::Realtime::kBoth;
  const std::vector<SearchCondition> conditions = search_conditions(options);
  ASSERT_EQ(conditions.size(), 8u);
  EXPECT_EQ(conditions[0], (SearchCondition{.buffers = 2, .background_load = 0, .realtime = true}));
  EXPECT_EQ(conditions[1], (SearchCondition{.buffers = 4, .background_load = 0, .realtime = true}));
  EXPECT_EQ(conditions[2],
            (SearchCondition{.buffers = 2, .background_load = 0, .realtime = false}));
  EXPECT_EQ(conditions[7],
            (SearchCondition{.buffers = 4, .background_load = 3, .realtime = false}));
}

TEST(KernelBound, IsCoresOverTheCostOfOneOscillatorSecond) {
  // 0.169 ns per oscillator-sample at 48 kHz: 8.1 us per oscillator-second, so one core renders
  // 123,274 oscillators in real time and two 246,548 (issue 12's 246,000).
  EXPECT_NEAR(kernel_bound(1, 0.169, 48000), 123274.1, 0.1);
  EXPECT_NEAR(kernel_bound(2, 0.169, 48000), 246548.3, 0.1);
  EXPECT_EQ(kernel_bound(2, 0.0, 48000), 0.0);  // no measurement, no bound
}

TEST(SummarizeCapacity, KeepsConditionsApartForTheSameWorkerCount) {
  std::vector<CapacityResult> searches(4);
  for (std::size_t i = 0; i < searches.size(); ++i) {
    searches[i].workers = 2;
    searches[i].condition.buffers = i % 2 == 0 ? 2 : 4;
    searches[i].capacity = 1000 * (i + 1);
  }
  const std::vector<CapacitySummary> summaries = summarize_capacity(searches);
  ASSERT_EQ(summaries.size(), 2u);
  EXPECT_EQ(summaries[0].condition.buffers, 2u);
  EXPECT_EQ(summaries[0].capacities, (std::vector<std::uint64_t>{1000, 3000}));
  EXPECT_EQ(summaries[1].capacities, (std::vector<std::uint64_t>{2000, 4000}));
  EXPECT_EQ(summaries[1].median, 2000u);  // the lower middle of an even count
}

}  // namespace
}  // namespace synthfarm::bench
