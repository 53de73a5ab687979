// Fuzz target: synthfarm-bench's command line, parse_bench_cli (bench/bench_cli.h). Input: the
// arguments after argv[0], separated by '\0' (the first is the subcommand).
//
// Properties: every outcome is a command, a help text or an error that says something; what is
// accepted lies within the ranges the subcommand's --help documents, so that no measurement
// starts with a value the bench cannot use (a zero repeat, a negative probe, a worker count
// synthfarm refuses, fewer oscillators than workers).

#include <string>
#include <variant>

#include "bench/bench_cli.h"
#include "bench/idle_wake_probe.h"
#include "shared/parameter_ranges.h"
#include "tests/fuzz/fuzz_support.h"

namespace synthfarm::bench {
namespace {

void check_capacity(const CapacityOptions& options) {
  for (const std::uint32_t workers : options.workers) {
    FUZZ_CHECK(workers >= 1 && workers <= 256);
    FUZZ_CHECK(options.max_oscillators >= workers);
  }
  FUZZ_CHECK(options.seconds >= 0.01 && options.seconds <= 3600);
  FUZZ_CHECK(options.kernel == "fast" || options.kernel == "exact");
  FUZZ_CHECK(options.max_oscillators >= 1 && options.max_oscillators <= 100'000'000);
  FUZZ_CHECK(options.precision >= 0.001 && options.precision <= 10);
  FUZZ_CHECK(options.repeats >= 1 && options.repeats <= 100);
  FUZZ_CHECK(options.attempts >= 1 && options.attempts <= 10);
  FUZZ_CHECK(!options.buffers.empty());
  for (const std::uint32_t buffers : options.buffers) {
    FUZZ_CHECK(buffers >= kMinBuffers && buffers <= kMaxBuffers);
  }
  FUZZ_CHECK(options.background_load <= 64);
  FUZZ_CHECK(
      options.wake_probe_seconds == 0 ||
      (options.wake_probe_seconds >= 0.05 && options.wake_probe_seconds <= kMaxWakeProbeSeconds));
}

void check_throughput(const ThroughputOptions& options) {
  FUZZ_CHECK(options.max_workers <= 256);
  FUZZ_CHECK(options.total_oscillators >= 1 && options.total_oscillators <= 100'000'000);
  FUZZ_CHECK(options.total_oscillators >= options.max_workers);
  FUZZ_CHECK(options.per_worker >= 1 && options.per_worker <= 10'000'000);
  FUZZ_CHECK(options.seconds >= 0.01 && options.seconds <= 3600);
  FUZZ_CHECK(options.kernel == "fast" || options.kernel == "exact");
  FUZZ_CHECK(options.repeats >= 1 && options.repeats <= 100);
}

void check_mix(const MixCostOptions& options) {
  FUZZ_CHECK(!options.workers.empty() && !options.block_frames.empty());
  for (const std::uint32_t workers : options.workers) FUZZ_CHECK(workers >= 1 && workers <= 1024);
  for (const std::uint32_t frames : options.block_frames)
    FUZZ_CHECK(frames >= 16 && frames <= 8192);
  if (options.callbacks) FUZZ_CHECK(*options.callbacks >= 1 && *options.callbacks <= 100'000'000);
}

}  // namespace
}  // namespace synthfarm::bench

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace synthfarm::bench;
  const synthfarm::fuzz::FuzzedArguments arguments("synthfarm-bench",
                                                   synthfarm::fuzz::as_text(data, size));
  // parse_bench_cli takes main's argv; it reads the words and never writes them.
  const BenchCli cli = parse_bench_cli(arguments.argc(), const_cast<char**>(arguments.argv()));
  if (const auto* error = std::get_if<CliError>(&cli)) {
    FUZZ_CHECK(!error->message.empty());
  } else if (const auto* help = std::get_if<HelpRequest>(&cli)) {
    FUZZ_CHECK(help->text != nullptr && help->text[0] != '\0');
  } else if (const auto* capacity = std::get_if<CapacityCommand>(&cli)) {
    check_capacity(capacity->options);
  } else if (const auto* throughput = std::get_if<ThroughputCommand>(&cli)) {
    check_throughput(throughput->options);
  } else {
    check_mix(std::get<MixCommand>(cli).options);
  }
  return 0;
}
