#pragma once
// The coordinator's run: everything between a parsed command line and the exit code.

#include <cstdint>
#include <optional>
#include <vector>

#include "coordinator/cli_options.h"

namespace synthfarm {

struct OscillatorPlan {
  std::vector<double> frequencies_hz;  // all workers' groups, in order
  std::optional<std::uint64_t> seed;   // set when the frequencies were drawn
};

// Resolves frequencies from the file or the seed (drawing a seed if none was given).
// Returns nullopt with `error` (naming the option) on failure; nothing is started.
std::optional<OscillatorPlan> plan_oscillators(const Options& options, std::string& error);

// Thread: main, before any other thread exists (it blocks signals for the control thread).
// Returns the process exit code (kExitOk, kExitFailure).
int run_coordinator(const Options& options, const OscillatorPlan& plan);

}  // namespace synthfarm
