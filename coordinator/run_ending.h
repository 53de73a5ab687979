#pragma once
// What a run says and writes once it has been torn down (nothing plays, no worker runs, the FIFO
// is gone): whether the fade-out was played, the final status, the recording's and the offline
// render's summaries, a late `report FILE`'s outcome, and the --report file. Scripts and tests
// read these lines and their order: change them only with those.

#include <functional>
#include <string>

#include "coordinator/plan/cli_options.h"
#include "coordinator/plan/oscillator_plan.h"
#include "coordinator/report/run_console.h"
#include "coordinator/run_commands.h"
#include "coordinator/run_output.h"

namespace synthfarm {

// Says why the run failed on stderr, keeps the first such message as the run's cause for the
// report, and returns kExitFailure: the sequencer's one way to fail.
using RunFailure = std::function<int(const std::string& message)>;

// Thread: control, after the teardown. Whether the live fade-out was played (stdout), or on
// stderr that the output stopped before it was and the end may click.
void print_fade_out(RunConsole& console, const RunOutput::FadeOut& fade);

// Thread: control, after the teardown of a run that played. Prints the final status, the
// recording's summary (a recording that failed makes the run fail, one that dropped frames says
// so), the offline render's summary when the run ended well (a render error makes it fail), and
// the outcome of a `report FILE` still being written (blocks until it is); then writes --report
// (blocks on the file system; a failure to write it makes the run fail). Returns the exit code.
int finish_played_run(const Options& options, RunCommands& commands, const RunOutput& output,
                      RunConsole& console, const RunFailure& fail, int exit_code);

// Thread: control, after the teardown of a run that failed (or was stopped) before it played:
// nothing to count, but a script that asked for --report still gets one, with `error` (the
// run's cause, empty when a signal stopped the start-up) and `exit_code`. Blocks on the file
// system; a failure to write it is said on stderr without changing the exit code.
void write_failed_start_report(const Options& options, const OscillatorPlan& plan,
                               const std::string& error, int exit_code, RunConsole& console);

}  // namespace synthfarm
