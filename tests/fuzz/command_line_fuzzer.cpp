// Fuzz target: synthfarm's command line as main reads it: parse_cli (coordinator/plan/
// cli_options.h), or parse_ctl_cli (coordinator/control/control_client.h) when the first word
// is "ctl". Input: the arguments after argv[0], separated by '\0'. A first word
// "SYNTHFARM_SIMD=VALUE" is taken as that environment variable instead of an argument.
//
// Properties: a refusal is exit code 2 with a message for stderr, --help and --version exit 0
// with text for stdout; what is accepted lies within the ranges --help documents, and the
// options that exclude each other never come together.

#include <cmath>
#include <string>

#include "coordinator/control/control_client.h"
#include "coordinator/plan/cli_options.h"
#include "shared/parameter_ranges.h"
#include "shared/segment_layout.h"
#include "tests/fuzz/fuzz_support.h"

namespace synthfarm {
namespace {

void check_exit(const CliExit& exit) {
  FUZZ_CHECK(!exit.text.empty());
  if (exit.exit_code == kExitOk) {
    FUZZ_CHECK(exit.to_stdout);
  } else {
    FUZZ_CHECK(exit.exit_code == kExitUsage);
    FUZZ_CHECK(!exit.to_stdout);
  }
}

void check_options(const Options& options) {
  FUZZ_CHECK(options.workers >= 1 && options.workers <= kMaxWorkers);
  FUZZ_CHECK(options.sines_per_worker >= 1 && options.sines_per_worker <= 10'000'000);
  FUZZ_CHECK(options.freq_min_hz >= 0 && options.freq_max_hz <= 1e6);
  FUZZ_CHECK(options.freq_min_hz <= options.freq_max_hz);
  FUZZ_CHECK(options.feedback >= kMinFeedback && options.feedback <= kMaxFeedback);
  FUZZ_CHECK(options.mul >= kMinMul && options.mul <= kMaxMul);
  FUZZ_CHECK(options.sample_rate_hz >= 8000 && options.sample_rate_hz <= 384000);
  FUZZ_CHECK(options.block_frames >= 16 && options.block_frames <= kMaxBlockFrames);
  FUZZ_CHECK(options.channels >= 1 && options.channels <= kMaxChannels);
  if (options.duration_seconds) {
    FUZZ_CHECK(std::isfinite(*options.duration_seconds) && *options.duration_seconds > 0);
  }
  FUZZ_CHECK(is_valid_instance_name(options.name));
  FUZZ_CHECK(!options.control_path.empty());
  if (!options.freqs_file.empty()) FUZZ_CHECK(!options.seed);
  if (!options.output_path.empty()) {
    FUZZ_CHECK(options.duration_seconds.has_value());
    FUZZ_CHECK(options.record_path.empty());
    FUZZ_CHECK(options.audio == AudioApi::kAuto && options.device.empty());
  }
  if (options.json) FUZZ_CHECK(options.action == Action::kListDevices);
  if (options.audio == AudioApi::kNull) {
    FUZZ_CHECK(options.device.empty() && options.action == Action::kRun);
  }
}

void check_ctl_options(const CtlOptions& options) {
  FUZZ_CHECK(!options.command.empty());
  FUZZ_CHECK(std::isfinite(options.timeout_seconds));
  FUZZ_CHECK(options.timeout_seconds > 0 && options.timeout_seconds <= 3600);
  FUZZ_CHECK(!options.control_path.empty());
  if (!options.name.empty()) FUZZ_CHECK(is_valid_instance_name(options.name));
  bool blank = true;
  for (const std::string& word : options.command) {
    // One command per call: a line break would let a word carry a second command.
    FUZZ_CHECK(word.find_first_of("\n\r") == std::string::npos);
    if (word.find_first_not_of(" \t") != std::string::npos) blank = false;
  }
  FUZZ_CHECK(!blank);
}

}  // namespace
}  // namespace synthfarm

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace synthfarm;
  std::string_view input = fuzz::as_text(data, size);
  constexpr std::string_view kSimdPrefix = "SYNTHFARM_SIMD=";
  std::string_view simd_environment;
  if (input.substr(0, kSimdPrefix.size()) == kSimdPrefix) {
    const std::string_view rest = input.substr(kSimdPrefix.size());
    const std::size_t end = rest.find('\0');
    simd_environment = rest.substr(0, end);
    input = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  }

  if (input.substr(0, 4) == std::string_view("ctl\0", 4) || input == "ctl") {
    // main hands parse_ctl_cli its arguments from "ctl" on.
    const fuzz::FuzzedArguments arguments("ctl",
                                          input.substr(std::min<std::size_t>(4, input.size())));
    const auto parsed = parse_ctl_cli(arguments.argc(), arguments.argv());
    if (const auto* exit = std::get_if<CliExit>(&parsed)) {
      check_exit(*exit);
    } else {
      check_ctl_options(std::get<CtlOptions>(parsed));
    }
    return 0;
  }

  const fuzz::FuzzedArguments arguments("synthfarm", input);
  const auto parsed = parse_cli(arguments.argc(), arguments.argv(), simd_environment);
  if (const auto* exit = std::get_if<CliExit>(&parsed)) {
    check_exit(*exit);
  } else {
    check_options(std::get<Options>(parsed));
  }
  return 0;
}
