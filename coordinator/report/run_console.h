#pragma once
// The run's console: stdout, stderr, and the live status (or progress bar) that a terminal
// shows between them. Everything the control thread prints goes through here, so that a line
// never lands in the middle of the table.

#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>

#include "coordinator/control/command_handler.h"
#include "coordinator/report/live_status.h"

namespace synthfarm {

class RunConsole {
 public:
  // How often the live status or the progress bar is redrawn.
  static constexpr std::chrono::milliseconds kRedrawInterval{250};

  // Thread: control. From now on, draw a status on stdout (the caller checked that stdout is
  // a terminal and --quiet was not given).
  void show_terminal_status() { terminal_.emplace(stdout); }
  // Thread: control. Erases the status and draws no more.
  void hide_terminal_status();

  // Thread: control. Prints whole lines on stdout or stderr, erasing the status first. Flushes.
  void out(const std::string& text) { print(stdout, text); }
  void err(const std::string& text) { print(stderr, text); }
  // Thread: control. "synthfarm: <message>" on stderr.
  void error(const std::string& message) { err("synthfarm: " + message + "\n"); }
  // Thread: control. A command's outcome that came later (a report written in the background),
  // as the control server prints one: its text on stdout when it succeeded, on stderr after
  // "synthfarm: " when not.
  void command_result(const CommandResult& result);

  // Thread: control. When a status is shown and kRedrawInterval has passed since the last
  // redraw, calls `draw` with it (so a caller reads its counters only then).
  void redraw(std::chrono::steady_clock::time_point now,
              const std::function<void(TerminalStatus& terminal)>& draw);

 private:
  void print(std::FILE* stream, const std::string& text);

  std::optional<TerminalStatus> terminal_;
  std::chrono::steady_clock::time_point last_redraw_{};
};

}  // namespace synthfarm
