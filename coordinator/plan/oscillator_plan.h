#pragma once
// Which oscillators a run plays: the frequencies of every worker's group, and the seed they were
// drawn with, so that a run can be repeated exactly.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/plan/cli_options.h"

namespace synthfarm {

struct OscillatorPlan {
  std::vector<double> frequencies_hz;  // all workers' groups, in order
  std::optional<std::uint64_t> seed;   // set when the frequencies were drawn
};

// Thread: main, before the run starts. Reads --freqs-file when given.
// Resolves frequencies from the file or the seed (drawing a seed if none was given).
// Returns nullopt with `error` (naming the option) on failure; nothing is started.
std::optional<OscillatorPlan> plan_oscillators(const Options& options, std::string& error);

}  // namespace synthfarm
