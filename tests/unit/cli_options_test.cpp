// parse_cli (coordinator/cli_options.h): defaults, every rejected value, --help and --version.

#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "coordinator/plan/cli_options.h"

namespace synthfarm {
namespace {

// Runs parse_cli on "synthfarm" followed by `args`.
std::variant<Options, CliExit> parse(const std::vector<std::string>& args) {
  std::vector<const char*> argv{"synthfarm"};
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  argv.push_back(nullptr);
  return parse_cli(static_cast<int>(argv.size() - 1), argv.data());
}

std::string joined(const std::vector<std::string>& args) {
  std::string text;
  for (const std::string& arg : args) {
    if (!text.empty()) text += ' ';
    text += arg;
  }
  return text;
}

// The help entry of --`option`: its first line and the indented lines that continue it.
std::string help_entry(const std::string& help, const std::string& option) {
  std::istringstream lines(help);
  std::string line;
  std::string entry;
  bool inside = false;
  while (std::getline(lines, line)) {
    if (inside) {
      const bool continues =
          line.size() > 4 && line.compare(0, 4, "    ") == 0 && line.find_first_not_of(' ') > 4;
      if (!continues) break;
      entry += ' ';
      entry.append(line, line.find_first_not_of(' '));
    } else if (line.rfind("  --" + option + " ", 0) == 0) {
      inside = true;
      entry = line;
    }
  }
  return entry;
}

TEST(ParseCli, GivesTheDocumentedDefaultsWithoutArguments) {
  const auto result = parse({});
  ASSERT_TRUE(std::holds_alternative<Options>(result)) << std::get<CliExit>(result).text;
  const Options& options = std::get<Options>(result);
  EXPECT_EQ(options.workers, 4u);
  EXPECT_EQ(options.sines_per_worker, 500u);
  EXPECT_EQ(options.freq_min_hz, 400.0);
  EXPECT_EQ(options.freq_max_hz, 800.0);
  EXPECT_EQ(options.feedback, 0.1);
  EXPECT_EQ(options.mul, 0.005);
  EXPECT_EQ(options.sample_rate_hz, 48000u);
  EXPECT_EQ(options.block_frames, 256u);
  EXPECT_EQ(options.channels, 2u);
  EXPECT_EQ(options.audio, AudioApi::kAuto);
  EXPECT_FALSE(options.seed.has_value());
  EXPECT_TRUE(options.freqs_file.empty());
  EXPECT_TRUE(options.output_path.empty());
  EXPECT_FALSE(options.duration_seconds.has_value());
  EXPECT_EQ(options.name, "default");
  EXPECT_EQ(options.control_path, default_control_path("default"));
  EXPECT_EQ(options.action, Action::kRun);
  EXPECT_TRUE(options.device.empty());
  EXPECT_FALSE(options.json);
  EXPECT_FALSE(options.quiet);
  EXPECT_TRUE(options.record_path.empty());
  EXPECT_TRUE(options.report_path.empty());
  EXPECT_EQ(options.buffers, 2u);
  EXPECT_TRUE(options.cpus.empty());
}

TEST(ParseCli, StoresEveryGivenValue) {
  const auto result = parse({"--workers",     "8",
                             "--sines",       "250",
                             "--freq-min",    "100",
                             "--freq-max",    "200.5",
                             "--feedback",    "0.7",
                             "--mul",         "0.25",
                             "--seed",        "18446744073709551615",
                             "--sample-rate", "44100",
                             "--block",       "64",
                             "--channels",    "3",
                             "--duration",    "2.5",
                             "--output",      "out.wav",
                             "--name",        "farm_2-b",
                             "--control",     "/tmp/x.control"});
  ASSERT_TRUE(std::holds_alternative<Options>(result)) << std::get<CliExit>(result).text;
  const Options& options = std::get<Options>(result);
  EXPECT_EQ(options.workers, 8u);
  EXPECT_EQ(options.sines_per_worker, 250u);
  EXPECT_EQ(options.freq_min_hz, 100.0);
  EXPECT_EQ(options.freq_max_hz, 200.5);
  EXPECT_EQ(options.feedback, 0.7);
  EXPECT_EQ(options.mul, 0.25);
  EXPECT_EQ(options.seed, 18446744073709551615u);
  EXPECT_EQ(options.sample_rate_hz, 44100u);
  EXPECT_EQ(options.block_frames, 64u);
  EXPECT_EQ(options.channels, 3u);
  EXPECT_EQ(options.duration_seconds, 2.5);
  EXPECT_EQ(options.output_path, "out.wav");
  EXPECT_EQ(options.name, "farm_2-b");
  EXPECT_EQ(options.control_path, "/tmp/x.control");
}

TEST(ParseCli, StoresTheLivePlayingOptions) {
  const auto result = parse({"--quiet", "--report", "run.json", "--record", "take.wav", "--device",
                             "System", "--audio", "jack"});
  ASSERT_TRUE(std::holds_alternative<Options>(result)) << std::get<CliExit>(result).text;
  const Options& options = std::get<Options>(result);
  EXPECT_TRUE(options.quiet);
  EXPECT_EQ(options.report_path, "run.json");
  EXPECT_EQ(options.record_path, "take.wav");
  EXPECT_EQ(options.device, "System");  // kept as given: matching is case-insensitive later
  EXPECT_EQ(options.action, Action::kRun);
}

TEST(ParseCli, WritesAReportOfAnOfflineRenderToo) {
  const auto result = parse({"--output", "x.wav", "--duration", "1", "--report", "r.json"});
  ASSERT_TRUE(std::holds_alternative<Options>(result)) << std::get<CliExit>(result).text;
  EXPECT_EQ(std::get<Options>(result).report_path, "r.json");
}

TEST(ParseCli, ListDevicesAsksForTheListInsteadOfARun) {
  const auto result = parse({"--list-devices"});
  ASSERT_TRUE(std::holds_alternative<Options>(result)) << std::get<CliExit>(result).text;
  EXPECT_EQ(std::get<Options>(result).action, Action::kListDevices);
  EXPECT_FALSE(std::get<Options>(result).json);
  EXPECT_EQ(std::get<Options>(result).audio, AudioApi::kAuto);  // auto: every API
}

TEST(ParseCli, ListDevicesTakesJsonAndOneApi) {
  const auto result = parse({"--list-devices", "--json", "--audio", "jack"});
  ASSERT_TRUE(std::holds_alternative<Options>(result)) << std::get<CliExit>(result).text;
  const Options& options = std::get<Options>(result);
  EXPECT_EQ(options.action, Action::kListDevices);
  EXPECT_TRUE(options.json);
  EXPECT_EQ(options.audio, AudioApi::kJack);
}

TEST(ParseCli, AcceptsEachAudioApiByName) {
  const std::pair<const char*, AudioApi> apis[] = {{"auto", AudioApi::kAuto},
                                                   {"jack", AudioApi::kJack},
                                                   {"pulse", AudioApi::kPulse},
                                                   {"alsa", AudioApi::kAlsa},
                                                   {"null", AudioApi::kNull}};
  for (const auto& [name, api] : apis) {
    const auto result = parse({"--audio", name});
    ASSERT_TRUE(std::holds_alternative<Options>(result)) << name;
    EXPECT_EQ(std::get<Options>(result).audio, api);
    EXPECT_STREQ(audio_api_name(api), name);
  }
}

TEST(ParseCli, ConnectsJacksPortsToThePhysicalPlaybackPortsByDefault) {
  const auto result = parse({});
  ASSERT_TRUE(std::holds_alternative<Options>(result)) << std::get<CliExit>(result).text;
  EXPECT_EQ(std::get<Options>(result).jack_connections.kind, JackConnections::Kind::kPhysical);
  EXPECT_EQ(std::get<Options>(result).jack_connections.pattern, "");
}

TEST(ParseCli, ConnectTakesPhysicalNoneOrAPortPattern) {
  const std::pair<std::string, JackConnections::Kind> choices[] = {
      {"physical", JackConnections::Kind::kPhysical},
      {"none", JackConnections::Kind::kNone},
      {"^recorder:in_[12]$", JackConnections::Kind::kPattern}};
  for (const auto& [text, kind] : choices) {
    const auto result = parse({"--audio", "jack", "--connect", text});
    ASSERT_TRUE(std::holds_alternative<Options>(result)) << std::get<CliExit>(result).text;
    const JackConnections& connections = std::get<Options>(result).jack_connections;
    EXPECT_EQ(connections.kind, kind) << text;
    // Only a pattern is kept: "physical" and "none" are words, not expressions.
    EXPECT_EQ(connections.pattern, kind == JackConnections::Kind::kPattern ? text : "") << text;
  }
  // Under --audio auto too: it plays on JACK when a server runs.
  const auto automatic = parse({"--connect", "none"});
  ASSERT_TRUE(std::holds_alternative<Options>(automatic)) << std::get<CliExit>(automatic).text;
  EXPECT_EQ(std::get<Options>(automatic).jack_connections.kind, JackConnections::Kind::kNone);
}

TEST(ParseCli, HelpSaysWhatConnectChoosesAndItsDefault) {
  const auto result = parse({"--help"});
  ASSERT_TRUE(std::holds_alternative<CliExit>(result));
  const std::string entry = help_entry(std::get<CliExit>(result).text, "connect");
  for (const char* words :
       {"physical", "none", "regular", "expression", "out_1", "jack_lsp", "(default physical)"}) {
    EXPECT_NE(entry.find(words), std::string::npos) << "no '" << words << "' in: " << entry;
  }
}

TEST(ParseCli, TakesAFrequencyFileInsteadOfSinesAndSeed) {
  const auto result = parse({"--freqs-file", "f.txt", "--workers", "2"});
  ASSERT_TRUE(std::holds_alternative<Options>(result)) << std::get<CliExit>(result).text;
  EXPECT_EQ(std::get<Options>(result).freqs_file, "f.txt");
}

TEST(ParseCli, AcceptsAnEqualFrequencyRange) {
  const auto result = parse({"--freq-min", "440", "--freq-max", "440"});
  ASSERT_TRUE(std::holds_alternative<Options>(result)) << std::get<CliExit>(result).text;
}

// ---------------------------------------------------------------------------------------------
// Every rejected command line: exit code 2, the message on stderr, naming the option.

struct BadCommandLine {
  std::vector<std::string> args;
  std::string names;  // text the message must contain
};

class ParseCliRejects : public testing::TestWithParam<BadCommandLine> {};

TEST_P(ParseCliRejects, WithExitCode2AndAMessageNamingTheOption) {
  const BadCommandLine& bad = GetParam();
  const auto result = parse(bad.args);
  ASSERT_TRUE(std::holds_alternative<CliExit>(result)) << joined(bad.args) << " was accepted";
  const CliExit& exit = std::get<CliExit>(result);
  EXPECT_EQ(exit.exit_code, kExitUsage) << joined(bad.args);
  EXPECT_FALSE(exit.to_stdout) << joined(bad.args);
  EXPECT_NE(exit.text.find(bad.names), std::string::npos)
      << joined(bad.args) << " gave: " << exit.text;
}

INSTANTIATE_TEST_SUITE_P(
    BadValues, ParseCliRejects,
    testing::Values(
        BadCommandLine{{"--workers", "0"}, "--workers"},
        BadCommandLine{{"--workers", "-1"}, "--workers"},
        BadCommandLine{{"--workers=-1"}, "--workers"},
        BadCommandLine{{"--workers", "abc"}, "--workers"},
        BadCommandLine{{"--workers", " 4"}, "--workers"},
        BadCommandLine{{"--workers", "+4"}, "--workers"},
        BadCommandLine{{"--workers", "257"}, "--workers"},
        BadCommandLine{{"--workers", ""}, "--workers"}, BadCommandLine{{"--sines", "0"}, "--sines"},
        BadCommandLine{{"--sines", "-5"}, "--sines"},
        BadCommandLine{{"--sines", "99999999999"}, "--sines"},
        BadCommandLine{{"--sines", "2.5"}, "--sines"},
        BadCommandLine{{"--freq-min", "900", "--freq-max", "800"}, "--freq-m"},
        BadCommandLine{{"--freq-min", "900"}, "--freq-m"},
        BadCommandLine{{"--freq-max", "nan"}, "--freq-max"},
        BadCommandLine{{"--audio", "foo"}, "--audio"},
        BadCommandLine{{"--output", "x.wav"}, "--output"},
        BadCommandLine{{"--freqs-file", "f.txt", "--sines", "10"}, "--freqs-file"},
        BadCommandLine{{"--freqs-file", "f.txt", "--seed", "3"}, "--freqs-file"},
        BadCommandLine{{"--feedback", "2"}, "--feedback"},
        BadCommandLine{{"--feedback", "-0.1"}, "--feedback"},
        BadCommandLine{{"--seed", "18446744073709551616"}, "--seed"},
        BadCommandLine{{"--sample-rate", "0"}, "--sample-rate"},
        BadCommandLine{{"--block", "0"}, "--block"}, BadCommandLine{{"--block", "8193"}, "--block"},
        BadCommandLine{{"--channels", "0"}, "--channels"},
        BadCommandLine{{"--duration", "0"}, "--duration"},
        BadCommandLine{{"--name", "a/b"}, "--name"}, BadCommandLine{{"--name", ""}, "--name"},
        BadCommandLine{{"--on-worker-failure", "retry"}, "--on-worker-failure"},
        BadCommandLine{{"--kernel", "slow"}, "--kernel"},
        BadCommandLine{{"--simd", "avx7"}, "--simd"},
        BadCommandLine{{"--workers"}, "--workers"},  // value missing
        BadCommandLine{{"--output", "x.wav", "--duration", "1", "--record", "y.wav"}, "--record"},
        BadCommandLine{{"--record", ""}, "--record"}, BadCommandLine{{"--record"}, "--record"},
        BadCommandLine{{"--report", ""}, "--report"}, BadCommandLine{{"--device", ""}, "--device"},
        BadCommandLine{{"--device", "system", "--audio", "null"}, "--device"},
        BadCommandLine{{"--output", "x.wav", "--duration", "1", "--device", "0"}, "--device"},
        BadCommandLine{{"--json"}, "--json"},
        BadCommandLine{{"--list-devices", "--audio", "null"}, "--list-devices"},
        BadCommandLine{{"--quiet=yes"}, "--quiet"}, BadCommandLine{{"--bogus"}, "--bogus"},
        BadCommandLine{{"--connect", ""}, "--connect"},
        BadCommandLine{{"--connect", "system:(playback"}, "--connect"},
        // libstdc++'s std::regex overflowed a signed integer on this count (UBSan; the fuzzer).
        BadCommandLine{{"--connect", "x{8666666666666666666}"}, "--connect"},
        BadCommandLine{{"--connect", "none", "--audio", "pulse"}, "--connect"},
        BadCommandLine{{"--connect", "none", "--audio", "null"}, "--connect"},
        BadCommandLine{{"--connect", "none", "--device", "system"}, "--connect"},
        BadCommandLine{{"--connect", "none", "--output", "x.wav", "--duration", "1"}, "--output"}),
    [](const testing::TestParamInfo<BadCommandLine>& param_info) {
      std::string name = std::to_string(param_info.index);
      for (const std::string& arg : param_info.param.args) {
        name += "_";
        for (const char c : arg) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      }
      return name;
    });

// ---------------------------------------------------------------------------------------------
// OSC control: --osc-port and --osc-bind

TEST(ParseCli, LeavesOscOffAndLoopbackTheDefaultBind) {
  const auto result = parse({});
  ASSERT_TRUE(std::holds_alternative<Options>(result)) << std::get<CliExit>(result).text;
  EXPECT_FALSE(std::get<Options>(result).osc_port.has_value());
  EXPECT_EQ(std::get<Options>(result).osc_bind, "127.0.0.1");
}

TEST(ParseCli, StoresTheOscPortAndBindAddress) {
  for (const auto& [port, bind] :
       {std::pair{"57130", "0.0.0.0"}, std::pair{"0", "::1"}, std::pair{"65535", "192.168.1.20"}}) {
    const auto result = parse({"--osc-port", port, "--osc-bind", bind});
    ASSERT_TRUE(std::holds_alternative<Options>(result)) << std::get<CliExit>(result).text;
    EXPECT_EQ(std::get<Options>(result).osc_port, std::stoul(port));
    EXPECT_EQ(std::get<Options>(result).osc_bind, bind);
  }
}

INSTANTIATE_TEST_SUITE_P(
    OscValues, ParseCliRejects,
    testing::Values(BadCommandLine{{"--osc-port", "65536"}, "--osc-port"},
                    BadCommandLine{{"--osc-port", "-1"}, "--osc-port"},
                    BadCommandLine{{"--osc-port", "http"}, "--osc-port"},
                    BadCommandLine{{"--osc-port", ""}, "--osc-port"},
                    BadCommandLine{{"--osc-bind", "0.0.0.0"}, "--osc-bind"},  // no --osc-port
                    BadCommandLine{{"--osc-port", "1", "--osc-bind", "localhost"}, "--osc-bind"},
                    BadCommandLine{{"--osc-port", "1", "--osc-bind", "1.2.3"}, "--osc-bind"},
                    BadCommandLine{{"--osc-port", "1", "--osc-bind", ""}, "--osc-bind"}),
    [](const testing::TestParamInfo<BadCommandLine>& param_info) {
      return "osc" + std::to_string(param_info.index);
    });

// ---------------------------------------------------------------------------------------------
// --help and --version

TEST(ParseCli, HelpExitsZeroWithUsageOnStdout) {
  for (const char* flag : {"--help", "-h"}) {
    const auto result = parse({flag});
    ASSERT_TRUE(std::holds_alternative<CliExit>(result)) << flag;
    const CliExit& exit = std::get<CliExit>(result);
    EXPECT_EQ(exit.exit_code, kExitOk);
    EXPECT_TRUE(exit.to_stdout);
    EXPECT_NE(exit.text.find("usage"), std::string::npos) << exit.text;
    EXPECT_NE(exit.text.find("Exit codes"), std::string::npos) << exit.text;
  }
}

// The help text from parse_cli({"--help"}).
std::string help() {
  const auto result = parse({"--help"});
  if (!std::holds_alternative<CliExit>(result)) return {};
  return std::get<CliExit>(result).text;
}

TEST(ParseCli, HelpGroupsEachOptionUnderItsHeading) {
  const std::string text = help();
  const std::vector<std::pair<std::string, std::vector<std::string>>> groups = {
      {"What to play:",
       {"workers", "sines", "freq-min", "freq-max", "freqs-file", "feedback", "mul", "seed",
        "kernel", "simd"}},
      {"Where it goes:",
       {"audio", "device", "connect", "list-devices", "json", "sample-rate", "block", "channels",
        "output", "duration", "record"}},
      {"Running it:",
       {"name", "control", "on-worker-failure", "quiet", "report", "version", "help"}},
  };
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const std::size_t begin = text.find(groups[g].first);
    ASSERT_NE(begin, std::string::npos) << "no heading '" << groups[g].first << "':\n" << text;
    const std::size_t end =
        g + 1 < groups.size() ? text.find(groups[g + 1].first) : text.find("Control while");
    ASSERT_LT(begin, end) << "headings out of order:\n" << text;
    const std::string section = text.substr(begin, end - begin);
    for (const std::string& option : groups[g].second) {
      EXPECT_TRUE(section.find("--" + option + " ") != std::string::npos ||
                  section.find("--" + option + "\n") != std::string::npos ||
                  section.find("--" + option + " ]") != std::string::npos)
          << "--" << option << " is not under '" << groups[g].first << "':\n"
          << section;
    }
  }
}

TEST(ParseCli, HelpEndsWithTheControlCommandsAndSynthfarmCtl) {
  const std::string text = help();
  const std::size_t epilogue = text.find("Control while playing:");
  ASSERT_NE(epilogue, std::string::npos) << text;
  const std::string tail = text.substr(epilogue);
  for (const char* words : {"synthfarm ctl", "stop <worker|all>", "play <worker|all>", "status",
                            "quit", "set <worker|all> feedback|mul <value>", "gain <dB>",
                            "reseed <worker|all> <seed>", "report FILE"}) {
    EXPECT_NE(tail.find(words), std::string::npos) << "'" << words << "' missing from:\n" << tail;
  }
}

TEST(ParseCli, HelpWinsOverOtherwiseBadValues) {
  const auto result = parse({"--workers", "0", "--help"});
  ASSERT_TRUE(std::holds_alternative<CliExit>(result));
  EXPECT_EQ(std::get<CliExit>(result).exit_code, kExitOk);
}

TEST(ParseCli, VersionExitsZeroWithNameAndVersionOnStdout) {
  const auto result = parse({"--version"});
  ASSERT_TRUE(std::holds_alternative<CliExit>(result));
  const CliExit& exit = std::get<CliExit>(result);
  EXPECT_EQ(exit.exit_code, kExitOk);
  EXPECT_TRUE(exit.to_stdout);
  EXPECT_NE(exit.text.find("synthfarm"), std::string::npos) << exit.text;
  EXPECT_NE(exit.text.find(SYNTHFARM_VERSION), std::string::npos) << exit.text;
}

// STYLE.md rule 8: each help text names its unit and default. One case per Options field.
class ParseCliHelp : public testing::TestWithParam<const char*> {};

TEST_P(ParseCliHelp, NamesTheOptionsDefault) {
  const auto result = parse({"--help"});
  ASSERT_TRUE(std::holds_alternative<CliExit>(result));
  const std::string entry = help_entry(std::get<CliExit>(result).text, GetParam());
  ASSERT_FALSE(entry.empty()) << "--" << GetParam() << " is missing from --help";
  EXPECT_NE(entry.find("default"), std::string::npos) << entry;
}

INSTANTIATE_TEST_SUITE_P(EveryOption, ParseCliHelp,
                         testing::Values("workers", "sines", "freq-min", "freq-max", "feedback",
                                         "mul", "seed", "freqs-file", "sample-rate", "block",
                                         "channels", "audio", "output", "duration", "control",
                                         "name", "on-worker-failure", "kernel", "simd", "quiet",
                                         "report", "record", "device", "list-devices", "json",
                                         "buffers", "cpus"),
                         [](const testing::TestParamInfo<const char*>& param_info) {
                           std::string name = param_info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

INSTANTIATE_TEST_SUITE_P(OscOptions, ParseCliHelp, testing::Values("osc-port", "osc-bind"),
                         [](const testing::TestParamInfo<const char*>& param_info) {
                           std::string name = param_info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(ParseCli, HelpListsTheOscOptionsUnderRunningItWithTheirWarning) {
  const std::string text = help();
  const std::size_t running = text.find("Running it:");
  ASSERT_NE(running, std::string::npos) << text;
  EXPECT_GT(text.find("--osc-port PORT"), running) << text;
  EXPECT_GT(text.find("--osc-bind ADDRESS"), running) << text;
  EXPECT_NE(help_entry(text, "osc-bind").find("authentication"), std::string::npos) << text;
}

// ---------------------------------------------------------------------------------------------
// The helpers synthfarm ctl shares with the run's command line.

// --buffers: the live fill target, in device buffers.
TEST(ParseCli, TakesBuffersOneToSixteenAndRefusesTheRest) {
  for (const char* good : {"1", "4", "16"}) {
    const auto result = parse({"--buffers", good});
    ASSERT_TRUE(std::holds_alternative<Options>(result)) << std::get<CliExit>(result).text;
    EXPECT_EQ(std::get<Options>(result).buffers, std::stoul(good));
  }
  for (const char* bad : {"0", "17", "-1", "2.5", "", "4x"}) {
    const auto result = parse({"--buffers", bad});
    ASSERT_TRUE(std::holds_alternative<CliExit>(result)) << "--buffers '" << bad << "'";
    const CliExit& exit = std::get<CliExit>(result);
    EXPECT_EQ(exit.exit_code, kExitUsage);
    EXPECT_NE(exit.text.find("--buffers"), std::string::npos) << exit.text;
  }
  const auto range = parse({"--buffers", "17"});
  EXPECT_NE(std::get<CliExit>(range).text.find("1 to 16"), std::string::npos)
      << std::get<CliExit>(range).text;
}

TEST(ParseCli, RefusesBuffersForAnOfflineRender) {
  const auto result = parse({"--output", "x.wav", "--duration", "1", "--buffers", "4"});
  ASSERT_TRUE(std::holds_alternative<CliExit>(result));
  EXPECT_NE(std::get<CliExit>(result).text.find("--buffers"), std::string::npos);
}

// The CPUs this test may run on, in ascending order, and the lowest one it may not.
std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  EXPECT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

TEST(ParseCli, TakesCpusThisProcessMayUseInTheOrderGiven) {
  const std::vector<int> allowed = allowed_cpus();
  ASSERT_FALSE(allowed.empty());
  std::string list;
  for (auto cpu = allowed.rbegin(); cpu != allowed.rend(); ++cpu) {
    if (!list.empty()) list += ',';
    list += std::to_string(*cpu);
  }
  const auto result = parse({"--cpus", list});
  ASSERT_TRUE(std::holds_alternative<Options>(result)) << std::get<CliExit>(result).text;
  EXPECT_EQ(std::get<Options>(result).cpus, std::vector<int>(allowed.rbegin(), allowed.rend()));
}

TEST(ParseCli, RefusesACpuThisProcessMayNotUseAndNamesTheAllowedOnes) {
  const std::vector<int> allowed = allowed_cpus();
  int refused = 0;
  while (std::find(allowed.begin(), allowed.end(), refused) != allowed.end()) ++refused;
  const auto result = parse({"--cpus", std::to_string(refused)});
  ASSERT_TRUE(std::holds_alternative<CliExit>(result));
  const CliExit& exit = std::get<CliExit>(result);
  EXPECT_EQ(exit.exit_code, kExitUsage);
  EXPECT_NE(exit.text.find("--cpus: CPU " + std::to_string(refused) + " is not one"),
            std::string::npos)
      << exit.text;
  const std::string allowed_list = '(' + std::to_string(allowed.front());
  EXPECT_NE(exit.text.find(allowed_list), std::string::npos) << exit.text;
}

TEST(ParseCli, RefusesAMalformedCpuList) {
  for (const char* bad : {"", "a", "0,", "1-0", "0,0", "-1", "0 ,1", "1024"}) {
    const auto result = parse({"--cpus", bad});
    ASSERT_TRUE(std::holds_alternative<CliExit>(result)) << "--cpus '" << bad << "'";
    EXPECT_NE(std::get<CliExit>(result).text.find("--cpus"), std::string::npos);
  }
}

TEST(InstanceName, TakesLettersDigitsDashAndUnderscoreUpTo64) {
  EXPECT_TRUE(is_valid_instance_name("farm_2-B"));
  EXPECT_TRUE(is_valid_instance_name(std::string(64, 'a')));
  EXPECT_FALSE(is_valid_instance_name(std::string(65, 'a')));
  EXPECT_FALSE(is_valid_instance_name(""));
  EXPECT_FALSE(is_valid_instance_name("a b"));
  EXPECT_FALSE(is_valid_instance_name("../x"));
}

TEST(ParseFiniteNumber, TakesTheWholeTextOrNothing) {
  EXPECT_EQ(parse_finite_number("2.5"), 2.5);
  EXPECT_EQ(parse_finite_number("-1e3"), -1000.0);
  EXPECT_FALSE(parse_finite_number(""));
  EXPECT_FALSE(parse_finite_number("2.5s"));
  EXPECT_FALSE(parse_finite_number("nan"));
  EXPECT_FALSE(parse_finite_number("inf"));
  EXPECT_FALSE(parse_finite_number("1e999"));
}

// Issue 13 item 3: the default FIFO lives in a directory of the user's own, never straight in
// /tmp, where another user could create the name first.
TEST(DefaultControlPath, IsInThePrivateRuntimeDirectoryWithOrWithoutXdgRuntimeDir) {
  const char* saved = std::getenv("XDG_RUNTIME_DIR");
  const std::optional<std::string> old = saved ? std::optional<std::string>(saved) : std::nullopt;
  setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
  EXPECT_EQ(default_control_path("studio"), "/run/user/4242/synthfarm/studio.control");
  unsetenv("XDG_RUNTIME_DIR");
  const std::string private_directory = "/tmp/synthfarm-" + std::to_string(geteuid());
  EXPECT_EQ(default_control_path("studio"), private_directory + "/studio.control");
  if (old) setenv("XDG_RUNTIME_DIR", old->c_str(), 1);
}

}  // namespace
}  // namespace synthfarm
