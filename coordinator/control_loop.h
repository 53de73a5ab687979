#pragma once
// The control thread's loop while a run plays. One poll waits on everything that can end the run
// or needs an answer (the stop signals, the control FIFO, the OSC socket, the workers' pidfds,
// replies waiting for room, the offline render's done eventfd); every tick then makes the checks
// no descriptor announces (due worker replacements, the live table, the output's own failure, the
// watchdog, the end of --duration). It watches and dispatches only: the sequencer owns what it
// watches, so that the teardown order stays in one place.

#include <cstdint>
#include <optional>
#include <string>

#include "coordinator/control/control_server.h"
#include "coordinator/control/osc_server.h"
#include "coordinator/mix/mixer.h"
#include "coordinator/report/run_console.h"
#include "coordinator/report/run_report.h"
#include "coordinator/run_commands.h"
#include "coordinator/run_output.h"
#include "coordinator/supervision/output_watchdog.h"
#include "coordinator/supervision/stop_signals.h"
#include "coordinator/supervision/worker_supervisor.h"

namespace synthfarm {

class ControlLoop {
 public:
  // The longest the poll waits with nothing to read: how late, at most, a due replacement, the
  // watchdog, the output's failure or the end of --duration is noticed.
  static constexpr int kTickMs = 50;

  // What the loop watches and acts through. Everything must outlive run().
  struct Sources {
    StopSignals& signals;
    ControlServer& server;
    OscServer* osc;  // nullptr without --osc-port
    WorkerSupervisor& supervisor;
    Mixer& mixer;
    RunOutput& output;
    RunCommands& commands;
    RunConsole& console;
    RunReportContext& facts;  // the audio thread's scheduling is recorded here once known
  };
  // What the run plays, as the sequencer settled it.
  struct Length {
    std::optional<double> duration_seconds;        // --duration, for the progress bar
    std::optional<std::uint64_t> duration_frames;  // --duration at the output's rate
    std::uint32_t fill_target_frames = 0;          // the rings' target, shown as latency
  };
  // How the run ended. `failure` is set when it failed and nothing has said why yet: the
  // sequencer prints it and records it as the run's cause (a worker's death under `abort` was
  // said already, so it ends with kExitFailure and no failure).
  struct End {
    int exit_code = kExitOk;
    std::optional<std::string> failure;
    bool output_gone = false;  // the output's failure or the watchdog: it cannot play a fade
  };

  // Thread: control, right after the output started: the watchdog's watch begins now.
  ControlLoop(const Sources& sources, const Length& length);

  // Thread: control. Blocks in poll, at most kTickMs at a time, until something ends the run:
  // a stop signal, `quit` (FIFO or OSC), a worker's death under `abort`, a replacement that
  // cannot start, the end of the offline render or of --duration, the output's failure, the
  // watchdog, or poll itself failing. Allocates (commands, lines). Returns how it ended.
  End run();

 private:
  // Thread: control, all of them; each allocates at most a line or a poll set, none blocks but
  // wait() (in poll, at most kTickMs).
  struct Readable;  // what one poll found, by source

  bool offline() const noexcept { return sources_.output.offline(); }
  // One poll and everything after it; nullopt while the run goes on.
  std::optional<End> tick();
  // Builds the poll set and waits. False with `error` when poll fails.
  bool wait(Readable& readable, std::string& error);
  // Answers the FIFO and OSC, sends waiting replies, prints a background report's outcome.
  // True once a command asked to quit.
  bool serve_commands(const Readable& readable);
  std::optional<End> reap_workers();
  void report_output_thread_once();
  void redraw();
  std::optional<End> start_replacements();
  // Offline: ends once the render is done. Live: the output's failure, the watchdog, --duration.
  std::optional<End> check_render(const Readable& readable);
  std::optional<End> check_live_output();

  Sources sources_;
  Length length_;
  OutputWatchdog watchdog_;
  bool output_thread_reported_ = false;
};

}  // namespace synthfarm
