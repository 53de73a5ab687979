// synthfarm-bench: measurements of the whole system, beside the kernel micro-benchmarks.
//   synthfarm-bench mix          the coordinator's mixing cost per audio callback
//   synthfarm-bench throughput   strong and weak scaling of offline renders over 1..N workers
//   synthfarm-bench capacity     the most oscillators each worker count plays in real time
// Every report starts with the machine (CPU, cores, SIMD target) and the load average at start
// and end, because these numbers mean nothing without them. Tables go to stdout, progress to
// stderr; --json and --csv also keep the rows (bench_report.h, result_table.h).
//
// Exit codes: 0 success, 1 a measurement failed, 2 bad arguments.

#include <cstdio>
#include <string>
#include <string_view>
#include <variant>

#include "bench/bench_cli.h"
#include "bench/bench_commands.h"

int main(int argc, char** argv) {
  using namespace synthfarm::bench;
  const BenchCli cli = parse_bench_cli(argc, argv);
  if (const auto* error = std::get_if<CliError>(&cli)) {
    // Point at the help of the command the arguments were for, when there was one.
    const std::string_view command = argc > 1 ? argv[1] : "";
    const std::string help = command == "mix" || command == "throughput" || command == "capacity"
                                 ? "synthfarm-bench " + std::string(command) + " --help"
                                 : std::string("synthfarm-bench --help");
    std::fprintf(stderr, "synthfarm-bench: %s\nrun %s for the options\n", error->message.c_str(),
                 help.c_str());
    return kExitUsage;
  }
  if (const auto* help = std::get_if<HelpRequest>(&cli)) {
    std::fputs(help->text, stdout);
    return kExitSuccess;
  }
  if (const auto* mix = std::get_if<MixCommand>(&cli)) return run_mix(*mix);
  if (const auto* capacity = std::get_if<CapacityCommand>(&cli)) return run_capacity(*capacity);
  return run_throughput(std::get<ThroughputCommand>(cli));
}
