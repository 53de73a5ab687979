#pragma once
// synthfarm-bench's subcommands. Each measures, builds its rows once (result_table.h), prints
// the machine and the table on stdout, writes --json and --csv when asked, and returns the
// exit code. Progress and errors go to stderr.
//
// Thread: main. Allocates, spawns synthfarm (throughput, capacity), creates shared memory (mix).

#include "bench/bench_cli.h"

namespace synthfarm::bench {

inline constexpr int kExitSuccess = 0;
inline constexpr int kExitFailure = 1;  // a measurement failed, or a file could not be written
inline constexpr int kExitUsage = 2;    // bad arguments

int run_mix(const MixCommand& command);
int run_throughput(ThroughputCommand command);
int run_capacity(CapacityCommand command);

}  // namespace synthfarm::bench
