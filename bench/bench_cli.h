#pragma once
// synthfarm-bench's command line: which subcommand, its options, and the --json and --csv
// files. Pure: parse_bench_cli never prints or exits; main decides (STYLE: keep the parser
// pure).
//
// Thread: any. Allocates.

#include <string>
#include <variant>

#include "bench/capacity.h"
#include "bench/mix_cost.h"
#include "bench/throughput.h"

namespace synthfarm::bench {

// Where a subcommand also writes its results; an empty path: not written.
struct OutputFiles {
  std::string json;
  std::string csv;
};

struct MixCommand {
  MixCostOptions options;
  OutputFiles files;
};

struct ThroughputCommand {
  ThroughputOptions options;
  OutputFiles files;
};

struct CapacityCommand {
  CapacityOptions options;
  OutputFiles files;
};

// --help for the program or one subcommand: the text to print on stdout.
struct HelpRequest {
  const char* text;
};

struct CliError {
  std::string message;
};

using BenchCli =
    std::variant<MixCommand, ThroughputCommand, CapacityCommand, HelpRequest, CliError>;

// The subcommand argv[1] and its options, a help request, or an error message naming the
// argument and what it needs.
BenchCli parse_bench_cli(int argc, char** argv);

}  // namespace synthfarm::bench
