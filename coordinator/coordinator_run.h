#pragma once
// The coordinator's run: everything between a parsed command line and the exit code.

#include "coordinator/plan/cli_options.h"
#include "coordinator/plan/oscillator_plan.h"

namespace synthfarm {

// Thread: main, before any other thread exists (it blocks signals for the control thread).
// Returns the process exit code (kExitOk, kExitFailure).
int run_coordinator(const Options& options, const OscillatorPlan& plan);

}  // namespace synthfarm
