// The OSC address space (coordinator/control/osc_command.h) and OSC bytes (osc_message.h), no
// socket: each address with each accepted argument type, every way a message can be wrong,
// refusals that match the FIFO's own text where the grammar judges, and the reply's shape.

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "coordinator/control/control_command.h"
#include "coordinator/control/osc_command.h"
#include "coordinator/control/osc_message.h"

namespace synthfarm {
namespace {

constexpr std::uint32_t kWorkers = 4;

using A = OscArgument;

OscMessage message(std::string address, std::vector<OscArgument> arguments = {}) {
  return {std::move(address), std::move(arguments)};
}

ControlCommand accepted(const OscMessage& m) {
  auto parsed = parse_osc_command(m, kWorkers);
  if (auto* why = std::get_if<std::string>(&parsed)) {
    ADD_FAILURE() << m.address << " ," << m.type_tags() << " was refused: " << *why;
    return {};
  }
  return std::get<ControlCommand>(parsed);
}

std::string refused(const OscMessage& m) {
  auto parsed = parse_osc_command(m, kWorkers);
  if (std::holds_alternative<ControlCommand>(parsed)) {
    ADD_FAILURE() << m.address << " ," << m.type_tags() << " was accepted";
    return {};
  }
  return std::get<std::string>(parsed);
}

// The FIFO's refusal of `line`, to compare with an OSC refusal judged by the grammar.
std::string fifo_refusal(std::string_view line) {
  auto parsed = parse_control_line(line, kWorkers);
  return std::holds_alternative<std::string>(parsed) ? std::get<std::string>(parsed) : "";
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

TEST(OscCommand, StopAndPlayTakeAnInt32WorkerOrTheStringAll) {
  const ControlCommand stop = accepted(message("/synthfarm/stop", {A::int32(2)}));
  EXPECT_EQ(stop.verb, ControlCommand::Verb::kStop);
  EXPECT_EQ(stop.worker, 2u);
  const ControlCommand play = accepted(message("/synthfarm/play", {A::string("all")}));
  EXPECT_EQ(play.verb, ControlCommand::Verb::kPlay);
  EXPECT_FALSE(play.worker.has_value());
}

TEST(OscCommand, SetTakesWorkerParameterAndAFloat32OrFloat64Value) {
  const ControlCommand feedback =
      accepted(message("/synthfarm/set", {A::int32(1), A::string("feedback"), A::float32(0.3f)}));
  EXPECT_EQ(feedback.verb, ControlCommand::Verb::kSet);
  EXPECT_EQ(feedback.worker, 1u);
  EXPECT_EQ(feedback.parameter, WorkerParameter::kFeedback);
  EXPECT_EQ(feedback.value, static_cast<double>(0.3f));  // the float32, exactly, not 0.3
  const ControlCommand mul =
      accepted(message("/synthfarm/set", {A::string("all"), A::string("mul"), A::float64(0.1)}));
  EXPECT_FALSE(mul.worker.has_value());
  EXPECT_EQ(mul.parameter, WorkerParameter::kMul);
  EXPECT_EQ(mul.value, 0.1);
}

TEST(OscCommand, CarriesEveryDoubleThroughTheLineExactly) {
  for (const double value : {0.1, 1.0 / 3.0, -999.9999999999999, 1e-300, 1e-7}) {
    const ControlCommand mul =
        accepted(message("/synthfarm/set", {A::int32(0), A::string("mul"), A::float64(value)}));
    EXPECT_EQ(mul.value, value);
  }
}

TEST(OscCommand, GainTakesDecibelsAsFloat32OrFloat64) {
  const ControlCommand gain = accepted(message("/synthfarm/gain", {A::float32(-6.0f)}));
  EXPECT_EQ(gain.verb, ControlCommand::Verb::kGain);
  EXPECT_EQ(gain.value, -6.0);
  EXPECT_EQ(accepted(message("/synthfarm/gain", {A::float64(3.5)})).value, 3.5);
}

TEST(OscCommand, ReseedTakesAnInt32AnInt64OrAStringOfDigits) {
  EXPECT_EQ(accepted(message("/synthfarm/reseed", {A::int32(0), A::int32(42)})).seed, 42u);
  EXPECT_EQ(accepted(message("/synthfarm/reseed", {A::int32(0), A::int64(1LL << 40)})).seed,
            1ULL << 40);
  const ControlCommand big =
      accepted(message("/synthfarm/reseed", {A::string("all"), A::string("18446744073709551615")}));
  EXPECT_EQ(big.seed, std::numeric_limits<std::uint64_t>::max());
  EXPECT_FALSE(big.worker.has_value());
}

TEST(OscCommand, StatusQuitAndReportMapToTheirVerbs) {
  EXPECT_EQ(accepted(message("/synthfarm/status")).verb, ControlCommand::Verb::kStatus);
  EXPECT_EQ(accepted(message("/synthfarm/quit")).verb, ControlCommand::Verb::kQuit);
  const ControlCommand report =
      accepted(message("/synthfarm/report", {A::string("/tmp/a b.json")}));
  EXPECT_EQ(report.verb, ControlCommand::Verb::kReport);
  EXPECT_EQ(report.path, "/tmp/a b.json");
}

// Bounds and ranges are the grammar's: the refusal is the FIFO's, word for word.
TEST(OscCommand, RefusesWhatTheFifoRefusesWithTheFifosMessage) {
  EXPECT_EQ(refused(message("/synthfarm/stop", {A::int32(4)})), fifo_refusal("stop 4"));
  EXPECT_EQ(refused(message("/synthfarm/stop", {A::int32(-1)})), fifo_refusal("stop -1"));
  EXPECT_EQ(refused(message("/synthfarm/set", {A::int32(0), A::string("feedback"), A::float64(2)})),
            fifo_refusal("set 0 feedback 2"));
  EXPECT_EQ(refused(message("/synthfarm/set", {A::int32(0), A::string("phase"), A::float64(0)})),
            fifo_refusal("set 0 phase 0"));
  EXPECT_EQ(refused(message("/synthfarm/gain", {A::float64(25)})), fifo_refusal("gain 25"));
  EXPECT_EQ(refused(message("/synthfarm/reseed", {A::int32(0), A::int32(-3)})),
            fifo_refusal("reseed 0 -3"));
  EXPECT_EQ(refused(message("/synthfarm/reseed", {A::int32(0), A::string("12x")})),
            fifo_refusal("reseed 0 12x"));
  EXPECT_EQ(refused(message("/synthfarm/report", {A::string("  ")})), fifo_refusal("report   "));
  EXPECT_TRUE(contains(refused(message("/synthfarm/stop", {A::int32(4)})), "no worker 4"));
}

TEST(OscCommand, RefusesNotANumberAndInfinityAsNotFinite) {
  for (const double bad :
       {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    EXPECT_TRUE(
        contains(refused(message("/synthfarm/gain", {A::float64(bad)})), "is not a finite number"));
  }
}

struct BadMessage {
  OscMessage message;
  std::string names;  // part of the refusal
};

class OscCommandRefuses : public testing::TestWithParam<BadMessage> {};

TEST_P(OscCommandRefuses, NamingTheAddressTypesAndTheAddressSpace) {
  const std::string why = refused(GetParam().message);
  EXPECT_TRUE(contains(why, GetParam().names)) << why;
  EXPECT_TRUE(contains(why, kOscHelp)) << why;
  EXPECT_TRUE(why.starts_with("osc: '" + GetParam().message.address + " ," +
                              GetParam().message.type_tags() + "'"))
      << why;
}

INSTANTIATE_TEST_SUITE_P(
    WrongAddressesCountsAndTypes, OscCommandRefuses,
    testing::Values(
        BadMessage{message("/synthfarm/louder"), "unknown address"},
        BadMessage{message("/other/status"), "unknown address"},
        BadMessage{message("/synthfarm/reply", {A::string("x"), A::int32(1), A::string("")}),
                   "unknown address"},
        BadMessage{message("/synthfarm/status", {A::int32(1)}), "no arguments"},
        BadMessage{message("/synthfarm/quit", {A::string("now")}), "no arguments"},
        BadMessage{message("/synthfarm/stop"), "one worker"},
        BadMessage{message("/synthfarm/stop", {A::int32(0), A::int32(1)}), "one worker"},
        BadMessage{message("/synthfarm/stop", {A::float32(1)}), "one worker"},
        BadMessage{message("/synthfarm/stop", {A::string("1")}), "one worker"},
        BadMessage{message("/synthfarm/play", {A::int64(1)}), "one worker"},
        BadMessage{message("/synthfarm/gain", {A::int32(-6)}), "float32 or float64"},
        BadMessage{message("/synthfarm/gain", {A::string("-6")}), "float32 or float64"},
        BadMessage{message("/synthfarm/gain"), "float32 or float64"},
        BadMessage{message("/synthfarm/set", {A::int32(0), A::string("mul")}), "\"mul\""},
        BadMessage{message("/synthfarm/set", {A::int32(0), A::string("mul"), A::int32(1)}),
                   "float32 or float64 value"},
        BadMessage{message("/synthfarm/set",
                           {A::int32(0), A::string("mul 1 x"), A::float64(1)}),  // hidden words
                   "\"feedback\" or \"mul\""},
        BadMessage{message("/synthfarm/reseed", {A::int32(0), A::float64(3)}), "seed"},
        BadMessage{message("/synthfarm/reseed", {A::int32(0), A::string("1 2")}), "seed"},
        BadMessage{message("/synthfarm/report"), "one string"},
        BadMessage{message("/synthfarm/report", {A::int32(3)}), "one string"}),
    [](const testing::TestParamInfo<BadMessage>& param_info) {
      return "case" + std::to_string(param_info.index);
    });

TEST(OscReply, CarriesTheAddressTheOutcomeAndTheText) {
  const OscMessage reply = osc_reply("/synthfarm/stop", true, "worker 1 stopped\n");
  EXPECT_EQ(reply.address, "/synthfarm/reply");
  EXPECT_EQ(reply.type_tags(), "sis");
  const auto read = read_osc_reply(reply);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->address, "/synthfarm/stop");
  EXPECT_TRUE(read->ok);
  EXPECT_EQ(read->text, "worker 1 stopped\n");
  EXPECT_FALSE(read_osc_reply(osc_reply("", false, "x"))->ok);
  EXPECT_FALSE(read_osc_reply(message("/synthfarm/reply", {A::string("a"), A::int32(1)})));
  EXPECT_FALSE(read_osc_reply(message("/synthfarm/status")));
}

TEST(OscMessageBytes, RoundTripEveryEncodedType) {
  const OscMessage sent =
      message("/synthfarm/x", {A::int32(-7), A::int64(-(1LL << 40)), A::float32(0.25f),
                               A::float64(1.0 / 3.0), A::string("all"), A::string("")});
  const auto bytes = encode_osc_message(sent);
  EXPECT_EQ(bytes.size() % 4, 0u);
  const auto received = decode_osc_message(bytes.data(), bytes.size());
  ASSERT_TRUE(received.has_value());
  EXPECT_EQ(received->address, "/synthfarm/x");
  EXPECT_EQ(received->type_tags(), "ihfdss");
  EXPECT_EQ(received->arguments[0].integer, -7);
  EXPECT_EQ(received->arguments[1].integer, -(1LL << 40));
  EXPECT_EQ(received->arguments[2].real, 0.25);
  EXPECT_EQ(received->arguments[3].real, 1.0 / 3.0);
  EXPECT_EQ(received->arguments[4].text, "all");
  EXPECT_EQ(received->arguments[5].text, "");
}

TEST(OscMessageBytes, AreNotAMessageWhenTruncatedTextABundleOrEmpty) {
  const auto bytes = encode_osc_message(message("/synthfarm/gain", {A::float32(-6.0f)}));
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_FALSE(decode_osc_message(bytes.data(), size).has_value()) << "first " << size;
  }
  const std::string text = "status\n";
  EXPECT_FALSE(decode_osc_message(text.data(), text.size()).has_value());
  // "#bundle", a time tag of 1 (immediately), and one element: the gain message above.
  std::vector<unsigned char> bundle{'#', 'b', 'u', 'n', 'd', 'l', 'e', 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const auto size = static_cast<unsigned char>(bytes.size());
  bundle.insert(bundle.end(), {0, 0, 0, size});
  bundle.insert(bundle.end(), bytes.begin(), bytes.end());
  EXPECT_FALSE(decode_osc_message(bundle.data(), bundle.size()).has_value());
}

TEST(OscMessageFromWords, TypesEachWordAsTheAddressSpaceTakesIt) {
  const OscMessage set = osc_message_from_words({"set", "1", "feedback", "0.5"});
  EXPECT_EQ(set.address, "/synthfarm/set");
  EXPECT_EQ(set.type_tags(), "isd");
  EXPECT_EQ(accepted(set).value, 0.5);
  EXPECT_EQ(osc_message_from_words({"stop", "all"}).type_tags(), "s");
  EXPECT_EQ(osc_message_from_words({"gain", "-6"}).type_tags(), "d");
  EXPECT_EQ(accepted(osc_message_from_words({"gain", "-6"})).value, -6.0);
  const OscMessage reseed = osc_message_from_words({"reseed", "0", "18446744073709551615"});
  EXPECT_EQ(reseed.type_tags(), "is");
  EXPECT_EQ(accepted(reseed).seed, std::numeric_limits<std::uint64_t>::max());
  const OscMessage report = osc_message_from_words({"report", "/tmp/a", "b.json"});
  EXPECT_EQ(accepted(report).path, "/tmp/a b.json");
  EXPECT_EQ(osc_message_from_words({"status"}).type_tags(), "");
}

TEST(OscMessageFromWords, SendsWhatDoesNotConvertAsAStringForTheInstanceToRefuse) {
  const OscMessage loud = osc_message_from_words({"gain", "loud"});
  EXPECT_EQ(loud.type_tags(), "s");
  EXPECT_TRUE(contains(refused(loud), "float32 or float64"));
  EXPECT_EQ(osc_message_from_words({"stop", "x"}).type_tags(), "s");
  EXPECT_TRUE(contains(refused(osc_message_from_words({"louder"})), "unknown address"));
}

}  // namespace
}  // namespace synthfarm
