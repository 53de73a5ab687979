#pragma once
// What a terminal shows while synthfarm runs: a small table redrawn in place (live), or a
// progress bar (offline). Both only when stdout is a terminal and --quiet is not given.

#include <chrono>
#include <cstdio>
#include <deque>
#include <string>
#include <vector>

#include "coordinator/report/run_statistics.h"

namespace synthfarm {

// The table's lines, from the current reading and one taken about a second earlier (loads are
// over that interval). Pure. Shows at most `max_worker_lines` workers and sums up the rest.
std::vector<std::string> format_live_status(const RunStatistics& now, const RunStatistics& earlier,
                                            double added_latency_ms,
                                            std::size_t max_worker_lines = 16);

// "[########            ]  40%  4.0 of 10.0 s  25.3x real time  0.2 s left". Pure.
std::string format_progress(double done_seconds, double total_seconds, double elapsed_seconds,
                            std::size_t bar_width = 30);

// Draws on a terminal. Thread: control (the only one that prints while playing).
class TerminalStatus {
 public:
  explicit TerminalStatus(std::FILE* terminal) : terminal_(terminal) {}

  // Redraws the live table from a new reading; loads cover the last second of readings.
  void update_live(RunStatistics now, double added_latency_ms);
  // Redraws the offline progress bar.
  void update_progress(double done_seconds, double total_seconds);
  // Erases what was drawn, so other text can be printed; the next update draws below it.
  void clear();

 private:
  void draw(const std::vector<std::string>& lines);

  std::FILE* terminal_;
  std::size_t drawn_lines_ = 0;
  std::deque<std::pair<std::chrono::steady_clock::time_point, RunStatistics>> readings_;
  std::chrono::steady_clock::time_point progress_started_ = std::chrono::steady_clock::now();
};

}  // namespace synthfarm
