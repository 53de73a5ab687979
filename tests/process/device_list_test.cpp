// Audio devices (coordinator/device_list.h): matching --device, the table and the JSON, and,
// through the real executable, --list-devices and --device against a JACK server. Also that
// --name names synthfarm's JACK client.
//
// The JACK tests need a running JACK server (scripts/test starts `jackd -d dummy`, whose one
// device is the client "system" with 2 playback and 2 capture ports). Without one they are
// skipped, or fail when SYNTHFARM_REQUIRE_JACK=1. The tests of what happens without a server
// point JACK_DEFAULT_SERVER at a name no server uses, so they run everywhere.

#include <gtest/gtest.h>
#include <jack/jack.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "coordinator/output/audio_output.h"
#include "coordinator/output/device_list.h"
#include "tests/support/child_process.h"
#include "tests/support/jack_ports.h"
#include "tests/support/temp_dir.h"

namespace synthfarm {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::TempDir;

constexpr auto kExitTimeout = 20s;     // a short run on a loaded 2-core machine
constexpr auto kStartupTimeout = 10s;  // the start-up report (workers attach within 5 s)

AudioDevice device(AudioApi api, unsigned index, std::string name, unsigned outputs,
                   bool default_output = false) {
  return AudioDevice{api, index,          std::move(name), outputs,
                     2,   {44100, 48000}, 48000,           default_output};
}

const std::vector<AudioDevice> kJackDevices = {
    device(AudioApi::kJack, 0, "system", 2, true), device(AudioApi::kJack, 1, "Reaper", 8),
    device(AudioApi::kJack, 2, "reaper-bus", 2),   device(AudioApi::kJack, 3, "meter", 0),
    device(AudioApi::kJack, 4, "synth-a", 2),      device(AudioApi::kJack, 5, "synth-b", 2)};

// ---------------------------------------------------------------------------------------------
// --device QUERY against a list (pure)

TEST(MatchDevice, TakesAnIndexAsListed) {
  const DeviceMatch match = match_device(kJackDevices, AudioApi::kJack, "2");
  ASSERT_EQ(match.kind, DeviceMatch::Kind::kFound) << match.error;
  EXPECT_EQ(match.device.name, "reaper-bus");
}

TEST(MatchDevice, TakesAPartOfANameIgnoringCase) {
  const DeviceMatch match = match_device(kJackDevices, AudioApi::kJack, "SYST");
  ASSERT_EQ(match.kind, DeviceMatch::Kind::kFound) << match.error;
  EXPECT_EQ(match.device.index, 0u);
}

TEST(MatchDevice, PrefersTheWholeNameOverNamesThatContainIt) {
  // "reaper" is all of "Reaper" and a part of "reaper-bus".
  const DeviceMatch match = match_device(kJackDevices, AudioApi::kJack, "reaper");
  ASSERT_EQ(match.kind, DeviceMatch::Kind::kFound) << match.error;
  EXPECT_EQ(match.device.name, "Reaper");
}

TEST(MatchDevice, ListsEveryDeviceAPartMatchesWhenItMatchesSeveral) {
  const DeviceMatch match = match_device(kJackDevices, AudioApi::kJack, "synth");
  EXPECT_EQ(match.kind, DeviceMatch::Kind::kSeveral);
  EXPECT_NE(match.error.find("'synth' matches several JACK devices"), std::string::npos)
      << match.error;
  EXPECT_NE(match.error.find("4 'synth-a', 5 'synth-b'"), std::string::npos) << match.error;
}

TEST(MatchDevice, NamesWhatItLookedForAndWhatThereIsWhenNothingMatches) {
  const DeviceMatch match = match_device(kJackDevices, AudioApi::kJack, "usb");
  EXPECT_EQ(match.kind, DeviceMatch::Kind::kNone);
  EXPECT_NE(match.error.find("'usb'"), std::string::npos) << match.error;
  EXPECT_NE(match.error.find("0 'system'"), std::string::npos) << match.error;
  EXPECT_EQ(match.available.find("meter"), std::string::npos)
      << "offers a device without outputs: " << match.available;
}

TEST(MatchDevice, RefusesAnIndexThatIsNotListed) {
  for (const char* query : {"6", "99999999999999999999999"}) {
    const DeviceMatch match = match_device(kJackDevices, AudioApi::kJack, query);
    EXPECT_EQ(match.kind, DeviceMatch::Kind::kNone) << query;
    EXPECT_NE(match.error.find(std::string("no device ") + query), std::string::npos)
        << match.error;
  }
}

TEST(MatchDevice, RefusesADeviceWithoutOutputs) {
  const DeviceMatch by_index = match_device(kJackDevices, AudioApi::kJack, "3");
  EXPECT_EQ(by_index.kind, DeviceMatch::Kind::kNone);
  EXPECT_NE(by_index.error.find("'meter' has no output channels"), std::string::npos)
      << by_index.error;
  EXPECT_EQ(match_device(kJackDevices, AudioApi::kJack, "meter").kind, DeviceMatch::Kind::kNone);
}

TEST(MatchDevice, SaysSoWhenTheApiListsNothing) {
  const DeviceMatch match = match_device({}, AudioApi::kPulse, "0");
  EXPECT_EQ(match.kind, DeviceMatch::Kind::kNone);
  EXPECT_NE(match.error.find("PulseAudio lists no device"), std::string::npos) << match.error;
}

// ---------------------------------------------------------------------------------------------
// The table and the JSON (pure)

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

TEST(FormatDeviceTable, AlignsTheColumnsAndMarksTheDefaultOutput) {
  const std::vector<AudioDevice> devices = {device(AudioApi::kJack, 0, "system", 2, true),
                                            device(AudioApi::kAlsa, 12, "a much longer name", 16)};
  const std::vector<std::string> lines = lines_of(format_device_table(devices));
  ASSERT_GE(lines.size(), 3u);
  const std::size_t name_column = lines[0].find("NAME");
  const std::size_t rates_column = lines[0].find("RATES (Hz)");
  ASSERT_NE(name_column, std::string::npos) << lines[0];
  EXPECT_EQ(lines[1].find("system"), name_column) << lines[1];
  EXPECT_EQ(lines[2].find("a much longer name"), name_column) << lines[2];
  EXPECT_EQ(lines[1].find("44100 48000"), rates_column) << lines[1];
  EXPECT_EQ(lines[2].find("44100 48000"), rates_column) << lines[2];
  EXPECT_EQ(lines[1].rfind("jack", 0), 0u) << "the API as --audio spells it: " << lines[1];
  EXPECT_NE(lines[1].find("(default output)"), std::string::npos) << lines[1];
  EXPECT_EQ(lines[2].find("default"), std::string::npos) << lines[2];
  EXPECT_NE(lines.back().find("--device"), std::string::npos) << "no hint how to choose one";
}

TEST(FormatDeviceTable, SummarizesALongListOfRates) {
  AudioDevice card = device(AudioApi::kAlsa, 0, "card", 2);
  card.sample_rates_hz = {8000, 11025, 16000, 22050, 44100, 48000, 96000, 192000};
  const std::string table = format_device_table({card});
  EXPECT_NE(table.find("8000-192000 (8 rates)"), std::string::npos) << table;
}

TEST(FormatDeviceJson, GivesEveryFieldOfEveryDevice) {
  const std::vector<AudioDevice> devices = {device(AudioApi::kJack, 0, "system", 2, true),
                                            device(AudioApi::kPulse, 3, "Büro \"HDMI\"", 6)};
  const nlohmann::json list = nlohmann::json::parse(format_device_json(devices));
  ASSERT_TRUE(list.is_array());
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["api"], "jack");
  EXPECT_EQ(list[0]["index"], 0);
  EXPECT_EQ(list[0]["name"], "system");
  EXPECT_EQ(list[0]["output_channels"], 2);
  EXPECT_EQ(list[0]["input_channels"], 2);
  EXPECT_EQ(list[0]["sample_rates_hz"], nlohmann::json::array({44100, 48000}));
  EXPECT_EQ(list[0]["preferred_rate_hz"], 48000);
  EXPECT_EQ(list[0]["default_output"], true);
  EXPECT_EQ(list[1]["api"], "pulse");
  EXPECT_EQ(list[1]["index"], 3);
  EXPECT_EQ(list[1]["name"], "Büro \"HDMI\"");
  EXPECT_EQ(list[1]["default_output"], false);
  EXPECT_EQ(list[0].size(), 8u) << list[0].dump();
}

TEST(FormatDeviceJson, GivesAnEmptyArrayForNoDevices) {
  EXPECT_EQ(nlohmann::json::parse(format_device_json({})), nlohmann::json::array());
}

TEST(ExplainNoDevices, SaysWhatToStartForEachApi) {
  const std::string jack = explain_no_devices(AudioApi::kJack);
  EXPECT_NE(jack.find("no JACK device found"), std::string::npos) << jack;
  EXPECT_NE(jack.find("jackd"), std::string::npos) << jack;
  EXPECT_EQ(jack.find("aplay"), std::string::npos) << "talks of ALSA when asked for JACK";
  const std::string all = explain_no_devices(std::nullopt);
  for (const char* words : {"JACK", "PulseAudio", "aplay -l", "--audio null"}) {
    EXPECT_NE(all.find(words), std::string::npos) << words << " missing:\n" << all;
  }
}

// ---------------------------------------------------------------------------------------------
// The executable without a JACK server

struct ProgramRun {
  int exit_code = -1000;
  std::string out;
  std::string err;
};

// Runs synthfarm ARGS with `environment` ("NAME=value") replacing ours, through env(1).
ProgramRun run_synthfarm(const std::vector<std::string>& args,
                         const std::vector<std::string>& environment = {}) {
  std::vector<std::string> argv{"/usr/bin/env"};
  argv.insert(argv.end(), environment.begin(), environment.end());
  argv.push_back(testing::built_program("synthfarm"));
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess child(argv);
  ProgramRun run;
  const auto code = child.wait_exit_code(kExitTimeout);
  EXPECT_TRUE(code) << "synthfarm did not exit within " << kExitTimeout.count() << " s";
  if (code) run.exit_code = *code;
  run.out = child.stdout_text();
  run.err = child.stderr_text();
  return run;
}

// A JACK server name nobody runs: JACK's "no server" case, with or without jackd on the machine.
std::string no_jack_server() {
  return "JACK_DEFAULT_SERVER=synthfarm-none-" + std::to_string(getpid());
}

TEST(ListDevicesWithoutServer, SaysNoJackDeviceAndHowToStartOneWithoutLibraryNoise) {
  const ProgramRun run = run_synthfarm({"--list-devices", "--audio", "jack"}, {no_jack_server()});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("no JACK device found"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("jackd"), std::string::npos) << run.out;
  EXPECT_EQ(run.err, "") << "libjack or RtAudio printed to stderr";
}

TEST(ListDevicesWithoutServer, PrintsAnEmptyJsonArray) {
  const ProgramRun run =
      run_synthfarm({"--list-devices", "--json", "--audio", "jack"}, {no_jack_server()});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "[]\n");
  EXPECT_EQ(run.err, "");
}

TEST(ListDevicesWithoutServer, ListsEveryApiWithoutLibraryNoise) {
  // Whatever this machine has: a table or the explanation, on stdout, and nothing on stderr
  // (libasound prints a dozen lines when it looks for a card that is not there).
  const ProgramRun run = run_synthfarm({"--list-devices"}, {no_jack_server()});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(run.out.find("NAME") != std::string::npos ||
              run.out.find("no audio device found") != std::string::npos)
      << run.out;
  EXPECT_EQ(run.err, "") << "an audio library printed to stderr";
}

// --name is the JACK client's name, and the longest --name (64 characters) must be one JACK
// takes: libjack allows jack_client_name_size() - 1 characters (64 with JACK 2).
TEST(JackClientName, TheLongestInstanceNameIsOneJackTakes) {
  EXPECT_GE(jack_client_name_size() - 1, 64);
  EXPECT_EQ(jack_client_name_for(std::string(64, 'n')), std::string(64, 'n'));
  EXPECT_EQ(jack_client_name_for("default"), "synthfarm");
}

// ---------------------------------------------------------------------------------------------
// Against the JACK server

// A JACK client of this test's own, to look at ports and to stand in as extra devices.
class JackClient {
 public:
  // nullptr when no server answers; libjack then stays quiet.
  static std::unique_ptr<JackClient> open(const std::string& name) {
    jack_set_error_function([](const char*) {});
    jack_set_info_function([](const char*) {});
    jack_status_t status{};
    jack_client_t* client = jack_client_open(
        name.c_str(), static_cast<jack_options_t>(JackNoStartServer | JackUseExactName), &status);
    return client ? std::unique_ptr<JackClient>(new JackClient(client)) : nullptr;
  }
  ~JackClient() { jack_client_close(client_); }
  JackClient(const JackClient&) = delete;
  JackClient& operator=(const JackClient&) = delete;

  std::uint32_t sample_rate_hz() const { return jack_get_sample_rate(client_); }

  // Registers an input port: for RtAudio, this client then is a device with an output.
  bool add_input_port(const std::string& name) {
    return jack_port_register(client_, name.c_str(), JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0) !=
           nullptr;
  }

  // Full names of the ports matching `pattern` (a regular expression, as libjack takes it).
  std::vector<std::string> ports(const std::string& pattern, unsigned long flags = 0) const {
    return testing::audio_ports(client_, pattern, flags);
  }

  std::vector<std::string> connections(const std::string& port_name) const {
    return testing::port_connections(client_, port_name);
  }

 private:
  explicit JackClient(jack_client_t* client) : client_(client) {}
  jack_client_t* client_;
};

class JackDevices : public ::testing::Test {
 protected:
  void SetUp() override {
    static int opened = 0;
    jack_ = JackClient::open("sflist-" + std::to_string(getpid()) + "-" + std::to_string(++opened));
    if (!jack_) {
      const char* require = std::getenv("SYNTHFARM_REQUIRE_JACK");
      const char* server = std::getenv("JACK_DEFAULT_SERVER");
      const std::string why = std::string("no JACK server '") + (server ? server : "default") +
                              "' answers (is jackd running?)";
      if (require && std::string(require) == "1") {
        FAIL() << why << "; SYNTHFARM_REQUIRE_JACK=1 makes this a failure";
      }
      GTEST_SKIP() << why << "; skipped (set SYNTHFARM_REQUIRE_JACK=1 to make this fail)";
    }
  }

  // A short real-time run on JACK under an instance name and FIFO of its own.
  std::unique_ptr<ChildProcess> start(const std::string& instance,
                                      const std::vector<std::string>& arguments) {
    std::vector<std::string> argv{testing::built_program("synthfarm"),
                                  "--name",
                                  instance,
                                  "--control",
                                  directory_.file(instance + ".control"),
                                  "--workers",
                                  "1",
                                  "--sines",
                                  "2",
                                  "--sample-rate",
                                  std::to_string(jack_->sample_rate_hz())};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    return std::make_unique<ChildProcess>(argv);
  }

  std::unique_ptr<JackClient> jack_;
  TempDir directory_;
};

TEST_F(JackDevices, ListsTheServersSystemDeviceAsItsDefaultOutput) {
  const std::vector<AudioDevice> devices = list_audio_devices(AudioApi::kJack);
  const auto system = std::find_if(devices.begin(), devices.end(),
                                   [](const AudioDevice& d) { return d.name == "system"; });
  ASSERT_NE(system, devices.end()) << format_device_table(devices);
  EXPECT_EQ(system->api, AudioApi::kJack);
  EXPECT_EQ(system->index, 0u) << "JACK lists the server's own ports first";
  EXPECT_TRUE(system->default_output);
  EXPECT_EQ(system->output_channels, jack_->ports("^system:", JackPortIsInput).size());
  EXPECT_EQ(system->input_channels, jack_->ports("^system:", JackPortIsOutput).size());
  EXPECT_EQ(system->preferred_rate_hz, jack_->sample_rate_hz());
  EXPECT_EQ(system->sample_rates_hz, std::vector<unsigned>{jack_->sample_rate_hz()});
  for (const AudioDevice& device : devices) EXPECT_EQ(device.api, AudioApi::kJack);
}

TEST_F(JackDevices, ListDevicesPrintsTheTableAndTheJsonOnStdout) {
  const ProgramRun table = run_synthfarm({"--list-devices", "--audio", "jack"});
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_TRUE(std::regex_search(
      table.out, std::regex("\njack +0 +system +2 +2 +" + std::to_string(jack_->sample_rate_hz()) +
                            " .*\\(default output\\)\n")))
      << table.out;
  EXPECT_EQ(table.err, "");

  const ProgramRun json = run_synthfarm({"--list-devices", "--audio", "jack", "--json"});
  EXPECT_EQ(json.exit_code, 0) << json.err;
  const nlohmann::json list = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_TRUE(list.is_array()) << json.out;
  ASSERT_FALSE(list.empty()) << json.out;
  EXPECT_EQ(list[0]["name"], "system");
  EXPECT_EQ(list[0]["api"], "jack");
  EXPECT_EQ(json.err, "");
}

TEST_F(JackDevices, PlaysOnTheDeviceANamePartChoosesAsAClientNamedAfterTheInstance) {
  const std::string instance = testing::unique_instance_name("devname");
  const std::string client = instance;  // --name is the JACK client's name
  auto child = start(instance, {"--audio", "jack", "--device", "SYST", "--duration", "3"});
  ASSERT_TRUE(child->wait_for_stdout(
      std::regex("output: JACK device 'system' as client '" + client + "'"), kStartupTimeout))
      << child->stdout_text() << child->stderr_text();
  // --name is the JACK client name, and its ports feed the chosen device's.
  std::vector<std::string> connected;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (connected.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    connected = jack_->connections(client + ":out_1");
  }
  EXPECT_EQ(jack_->ports("^" + client + ":", JackPortIsOutput),
            (std::vector<std::string>{client + ":out_1", client + ":out_2"}));
  EXPECT_EQ(connected, std::vector<std::string>{"system:playback_1"});
  const auto code = child->wait_exit_code(kExitTimeout);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0) << child->stderr_text();
}

TEST_F(JackDevices, AutoTakesTheFirstApiWithTheDeviceAndAnIndexWorksToo) {
  const std::string instance = testing::unique_instance_name("devindex");
  auto child = start(instance, {"--device", "0", "--duration", "0.3"});
  const auto code = child->wait_exit_code(kExitTimeout);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0) << child->stderr_text();
  EXPECT_NE(child->stdout_text().find("output: JACK device 'system'"), std::string::npos)
      << child->stdout_text();
}

TEST_F(JackDevices, RefusesADeviceThatMatchesNothingAndPointsToListDevices) {
  const std::string instance = testing::unique_instance_name("devnone");
  auto child = start(instance, {"--audio", "jack", "--device", "no-such-card", "--duration", "1"});
  const auto code = child->wait_exit_code(kExitTimeout);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 1);
  const std::string err = child->stderr_text();
  EXPECT_NE(err.find("--device no-such-card: no JACK device name contains 'no-such-card'"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("0 'system'"), std::string::npos) << err;
  EXPECT_NE(err.find("synthfarm --list-devices"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(directory_.file(instance + ".control")));
}

TEST_F(JackDevices, RefusesANamePartThatMatchesSeveralDevicesListingThem) {
  const std::string stem = "sfdev" + std::to_string(getpid());
  auto first = JackClient::open(stem + "-left");
  auto second = JackClient::open(stem + "-right");
  ASSERT_TRUE(first && second);
  ASSERT_TRUE(first->add_input_port("in") && second->add_input_port("in"));
  const std::string instance = testing::unique_instance_name("devmany");
  auto child = start(instance, {"--audio", "jack", "--device", stem, "--duration", "1"});
  const auto code = child->wait_exit_code(kExitTimeout);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 1);
  const std::string err = child->stderr_text();
  EXPECT_NE(err.find("'" + stem + "' matches several JACK devices"), std::string::npos) << err;
  EXPECT_NE(err.find("'" + stem + "-left'"), std::string::npos) << err;
  EXPECT_NE(err.find("'" + stem + "-right'"), std::string::npos) << err;
}

}  // namespace
}  // namespace synthfarm
