// parse_control_line (coordinator/control_command.h): every verb, every way a line can be
// wrong (missing or extra words, numbers that are not numbers or are out of range, workers
// that do not exist), and the help text that every refusal carries.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "coordinator/control/control_command.h"
#include "coordinator/mix/master_stage.h"
#include "coordinator/plan/cli_options.h"

namespace synthfarm {
namespace {

constexpr std::uint32_t kWorkers = 4;

ControlCommand accepted(std::string_view line) {
  auto parsed = parse_control_line(line, kWorkers);
  if (auto* message = std::get_if<std::string>(&parsed)) {
    ADD_FAILURE() << "'" << line << "' was refused: " << *message;
    return {};
  }
  return std::get<ControlCommand>(parsed);
}

// The refusal's message; the test fails if the line was accepted.
std::string refused(std::string_view line) {
  auto parsed = parse_control_line(line, kWorkers);
  if (std::holds_alternative<ControlCommand>(parsed)) {
    ADD_FAILURE() << "'" << line << "' was accepted";
    return {};
  }
  return std::get<std::string>(parsed);
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

TEST(ControlCommand, StopAndPlayTakeOneWorkerOrAll) {
  const ControlCommand stop = accepted("stop 2");
  EXPECT_EQ(stop.verb, ControlCommand::Verb::kStop);
  EXPECT_EQ(stop.worker, 2u);
  const ControlCommand play = accepted("  play\tall \r");
  EXPECT_EQ(play.verb, ControlCommand::Verb::kPlay);
  EXPECT_FALSE(play.worker.has_value());
}

TEST(ControlCommand, StatusAndQuitTakeNoArgument) {
  EXPECT_EQ(accepted("status").verb, ControlCommand::Verb::kStatus);
  EXPECT_EQ(accepted(" quit ").verb, ControlCommand::Verb::kQuit);
  EXPECT_TRUE(contains(refused("status now"), "'status' takes no argument"));
  EXPECT_TRUE(contains(refused("quit 1"), "'quit' takes no argument"));
}

TEST(ControlCommand, SetTakesAWorkerOrAllAParameterAndAValue) {
  const ControlCommand feedback = accepted("set 3 feedback 0.25");
  EXPECT_EQ(feedback.verb, ControlCommand::Verb::kSet);
  EXPECT_EQ(feedback.worker, 3u);
  EXPECT_EQ(feedback.parameter, WorkerParameter::kFeedback);
  EXPECT_EQ(feedback.value, 0.25);
  const ControlCommand mul = accepted("set all mul 1e-3");
  EXPECT_FALSE(mul.worker.has_value());
  EXPECT_EQ(mul.parameter, WorkerParameter::kMul);
  EXPECT_EQ(mul.value, 0.001);
}

TEST(ControlCommand, SetAcceptsTheEdgesOfEachRange) {
  EXPECT_EQ(accepted("set 0 feedback 0").value, 0.0);
  EXPECT_EQ(accepted("set 0 feedback 1").value, 1.0);
  EXPECT_EQ(accepted("set 0 mul -1000").value, -1000.0);
  EXPECT_EQ(accepted("set 0 mul 1000").value, 1000.0);
  EXPECT_EQ(accepted("set 0 mul 0").value, 0.0);
}

TEST(ControlCommand, SetTakesMinusZeroAsZero) {
  // -0 is within 0..1, and must not reach the kernels as a negative zero.
  const ControlCommand command = accepted("set 1 feedback -0");
  EXPECT_EQ(command.value, 0.0);
  EXPECT_FALSE(std::signbit(command.value));
  EXPECT_FALSE(std::signbit(accepted("set 1 mul -0.0").value));
}

TEST(ControlCommand, SetRefusesAValueOutsideItsRangeAndNamesTheRange) {
  const std::string high = refused("set 0 feedback 1.01");
  EXPECT_TRUE(contains(high, "feedback 1.01 is out of range (0 to 1; pyo clips feedback there)"))
      << high;
  EXPECT_TRUE(contains(refused("set all feedback -0.1"), "out of range (0 to 1"));
  EXPECT_TRUE(contains(refused("set 2 mul 1000.5"), "mul 1000.5 is out of range (-1000 to 1000)"));
  EXPECT_TRUE(contains(refused("set 2 mul -1001"), "out of range (-1000 to 1000)"));
}

TEST(ControlCommand, SetRefusesTextThatIsNotAFiniteNumber) {
  for (const char* value :
       {"nan", "NaN", "inf", "-inf", "infinity", "1e999", "-1e999", "0.5x", "half", "0,5", ""}) {
    SCOPED_TRACE(value);
    const std::string line = std::string("set 0 mul ") + value;
    if (*value == '\0') {
      EXPECT_TRUE(contains(refused(line), "set <worker|all> feedback|mul <value>"));
      continue;
    }
    const std::string message = refused(line);
    EXPECT_TRUE(contains(message, std::string("'") + value + "' is not a finite number (mul)"))
        << message;
  }
}

TEST(ControlCommand, SetRefusesMissingExtraOrUnknownWords) {
  for (const char* line :
       {"set", "set 0", "set 0 feedback", "set 0 feedback 0.1 now", "set feedback 0.1"}) {
    SCOPED_TRACE(line);
    EXPECT_TRUE(contains(refused(line), "set <worker|all> feedback|mul <value>"));
  }
  EXPECT_TRUE(
      contains(refused("set 0 gain 0.1"), "'gain' is not a parameter; set feedback or mul"));
  EXPECT_TRUE(contains(refused("set 0 Feedback 0.1"), "'Feedback' is not a parameter"));
}

TEST(ControlCommand, WorkerCommandsRefuseAWorkerThatDoesNotExist) {
  for (const char* line : {"stop 4", "play 4", "set 4 mul 1", "reseed 4 1"}) {
    SCOPED_TRACE(line);
    EXPECT_TRUE(contains(refused(line), "there is no worker 4; workers are 0 to 3"));
  }
  for (const char* line :
       {"stop -1", "set x mul 1", "reseed +1 5", "play 1.0", "stop ALL", "set 99999999999 mul 1"}) {
    SCOPED_TRACE(line);
    EXPECT_TRUE(contains(refused(line), "is not a worker number or 'all'"));
  }
}

TEST(ControlCommand, GainTakesDecibelsWithinTheMasterStagesRange) {
  const ControlCommand gain = accepted("gain -6.5");
  EXPECT_EQ(gain.verb, ControlCommand::Verb::kGain);
  EXPECT_EQ(gain.value, -6.5);
  EXPECT_EQ(accepted("gain -120").value, MasterStage::kMinGainDb);
  EXPECT_EQ(accepted("gain 24").value, MasterStage::kMaxGainDb);
  EXPECT_FALSE(std::signbit(accepted("gain -0").value));
  EXPECT_TRUE(contains(refused("gain 24.1"), "gain in dB 24.1 is out of range (-120 to 24)"));
  EXPECT_TRUE(contains(refused("gain -121"), "out of range (-120 to 24)"));
  EXPECT_TRUE(contains(refused("gain nan"), "'nan' is not a finite number (gain in dB)"));
  EXPECT_TRUE(contains(refused("gain 1e999"), "is not a finite number"));
  EXPECT_TRUE(contains(refused("gain -6dB"), "'-6dB' is not a finite number"));
  for (const char* line : {"gain", "gain 1 2", "gain all 3"}) {
    SCOPED_TRACE(line);
    EXPECT_TRUE(contains(refused(line), "give one level in dB: gain <dB>"));
  }
}

TEST(ControlCommand, ReseedTakesAWorkerOrAllAndA64BitSeed) {
  const ControlCommand one = accepted("reseed 1 42");
  EXPECT_EQ(one.verb, ControlCommand::Verb::kReseed);
  EXPECT_EQ(one.worker, 1u);
  EXPECT_EQ(one.seed, 42u);
  const ControlCommand all = accepted("reseed all 18446744073709551615");
  EXPECT_FALSE(all.worker.has_value());
  EXPECT_EQ(all.seed, UINT64_MAX);
  EXPECT_EQ(accepted("reseed 0 0").seed, 0u);
}

TEST(ControlCommand, ReseedRefusesASeedThatIsNotDigitsOrDoesNotFit64Bits) {
  EXPECT_TRUE(contains(refused("reseed 0 18446744073709551616"),
                       "seed 18446744073709551616 is out of range (0 to 18446744073709551615)"));
  for (const char* seed : {"-1", "+1", "1e3", "0x10", "4.0", "seven", "-0"}) {
    SCOPED_TRACE(seed);
    EXPECT_TRUE(contains(refused(std::string("reseed all ") + seed),
                         std::string("'") + seed + "' is not a seed (a whole number"));
  }
  for (const char* line : {"reseed", "reseed 0", "reseed all 1 2"}) {
    SCOPED_TRACE(line);
    EXPECT_TRUE(contains(refused(line), "reseed <worker|all> <seed>"));
  }
}

TEST(ControlCommand, ReportTakesTheRestOfTheLineTrimmedAsTheFileName) {
  const ControlCommand report = accepted("report /tmp/run.json");
  EXPECT_EQ(report.verb, ControlCommand::Verb::kReport);
  EXPECT_EQ(report.path, "/tmp/run.json");
  EXPECT_EQ(accepted("  report \t my report (2).json \r").path, "my report (2).json");
  for (const char* line : {"report", "report   ", " report\t\r"}) {
    SCOPED_TRACE(line);
    EXPECT_TRUE(contains(refused(line), "'report' needs a file name: report FILE"));
  }
  EXPECT_TRUE(contains(refused("reports x"), "unknown command"));
}

TEST(ControlCommand, RefusesAnEmptyLineAndAnUnknownVerbWithTheHelp) {
  EXPECT_TRUE(contains(refused(""), "empty command"));
  EXPECT_TRUE(contains(refused(" \t "), "empty command"));
  const std::string message = refused("volume 3");
  EXPECT_TRUE(contains(message, "control: 'volume 3': unknown command"));
  EXPECT_TRUE(contains(message, kControlHelp));
}

TEST(ControlCommand, EveryRefusalNamesTheLineAndEndsWithTheHelp) {
  for (const char* line : {"set 0 feedback 2", "gain", "reseed 9 1", "stop", "status x"}) {
    SCOPED_TRACE(line);
    const std::string message = refused(line);
    EXPECT_EQ(message.rfind(std::string("control: '") + line + "': ", 0), 0u) << message;
    EXPECT_TRUE(message.ends_with(std::string("(") + kControlHelp + ")")) << message;
  }
  // Control characters in the line are shown as '?', and a long line is cut.
  EXPECT_TRUE(contains(refused("set 0 mul \x01"), "'set 0 mul ?'"));
  EXPECT_TRUE(contains(refused(std::string(200, 'x')), std::string(80, 'x') + "...'"));
}

TEST(ControlCommand, HelpListsEveryVerbWithItsArguments) {
  const std::string help = kControlHelp;
  const std::string table = control_command_summary();  // --help's and ctl --help's table
  for (const char* usage :
       {"stop <worker|all>", "play <worker|all>", "set <worker|all> feedback|mul <value>",
        "gain <dB>", "reseed <worker|all> <seed>", "report FILE", "status", "quit"}) {
    EXPECT_TRUE(contains(help, usage)) << usage;
    // The two lists are kept by hand: they must not drift apart.
    EXPECT_TRUE(contains(table, std::string("    ") + usage + " ")) << usage;
  }
}

}  // namespace
}  // namespace synthfarm
