#include "coordinator/report/live_status.h"

#include <sched.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "coordinator/report/printf_string.h"

namespace synthfarm {
namespace {

// The lines above the worker table: run, callback, column titles.
constexpr std::size_t kHeaderLines = 3;

// The worker as it was in `earlier`, if it was there (the count never changes within a run).
const WorkerStatistics* same_worker(const RunStatistics& earlier, std::uint32_t index) {
  return index < earlier.workers.size() ? &earlier.workers[index] : nullptr;
}

// "FIFO 68", "nice -10": what fits the table's column.
std::string short_scheduling(const AppliedScheduling& scheduling) {
  if (scheduling.policy == SCHED_FIFO || scheduling.policy == SCHED_RR) {
    return printf_string("%s %d", scheduling.policy == SCHED_FIFO ? "FIFO" : "RR",
                         scheduling.priority);
  }
  return printf_string("nice %d", scheduling.nice);
}

}  // namespace

std::vector<std::string> format_live_status(const RunStatistics& now, const RunStatistics& earlier,
                                            double added_latency_ms, std::size_t max_worker_lines) {
  const double period_ns = now.period_ns();
  const DurationSummary callback = now.callback.since(earlier.callback);
  std::vector<std::string> lines;
  // Two short lines rather than one long one: the table must fit an 80-column terminal.
  lines.push_back(printf_string(
      "synthfarm %.1f s  latency %.1f ms  gain %.1f dB  device underflows %llu", now.seconds(),
      added_latency_ms, now.gain_db, static_cast<unsigned long long>(now.device_underflows)));
  lines.push_back(printf_string("callback avg %.2f%% max %.2f%% of the %.2f ms period",
                                100.0 * callback.mean_ns() / period_ns,
                                100.0 * static_cast<double>(callback.max_ns) / period_ns,
                                period_ns / 1e6));
  lines.push_back(printf_string("%7s  %-8s %9s %9s %12s  %-9s", "worker", "state", "load avg",
                                "load max", "underruns", "sched"));
  std::map<std::string, unsigned> hidden_states;
  double hidden_max_load = 0.0;
  std::uint64_t hidden_underruns = 0;
  unsigned hidden_near_throttling = 0;
  for (const WorkerStatistics& worker : now.workers) {
    const WorkerStatistics* before = same_worker(earlier, worker.index);
    const DurationSummary render =
        before ? worker.render_time.since(before->render_time) : worker.render_time;
    const bool rendered = render.count > 0;
    const double load_avg = rendered ? 100.0 * render.mean_ns() / period_ns : 0.0;
    const double load_max = rendered ? 100.0 * static_cast<double>(render.max_ns) / period_ns : 0.0;
    // Over the last second, as the loads: a real-time worker near the kernel's throttling share
    // is about to be stopped for the rest of the kernel's period (tens of ms of underruns).
    const bool near_throttling = now.near_realtime_throttling(worker, render);
    if (lines.size() - kHeaderLines >= max_worker_lines) {
      ++hidden_states[worker.state];
      hidden_max_load = std::max(hidden_max_load, load_max);
      hidden_underruns += worker.underrun_frames;
      hidden_near_throttling += near_throttling ? 1 : 0;
      continue;
    }
    const std::string avg_text = rendered ? printf_string("%.1f%%", load_avg) : "-";
    const std::string max_text = rendered ? printf_string("%.1f%%", load_max) : "-";
    lines.push_back(printf_string(
        "%7u  %-8s %9s %9s %12llu  %-9s%s", worker.index, worker.state.c_str(), avg_text.c_str(),
        max_text.c_str(), static_cast<unsigned long long>(worker.underrun_frames),
        short_scheduling(worker.scheduling).c_str(), near_throttling ? " NEAR RT LIMIT" : ""));
  }
  if (!hidden_states.empty()) {
    std::string states;
    unsigned hidden = 0;
    for (const auto& [state, count] : hidden_states) {
      states += (states.empty() ? "" : ", ") + std::to_string(count) + " " + state;
      hidden += count;
    }
    // The flag must not hide below the table: a throttled worker is tens of ms of underruns.
    const std::string near_limit = hidden_near_throttling > 0
                                       ? printf_string(", %u NEAR RT LIMIT", hidden_near_throttling)
                                       : "";
    lines.push_back(printf_string(
        "  ... %u more workers (%s), load max %.1f%%, underruns %llu%s; `status` lists all", hidden,
        states.c_str(), hidden_max_load, static_cast<unsigned long long>(hidden_underruns),
        near_limit.c_str()));
  }
  return lines;
}

std::string format_progress(double done_seconds, double total_seconds, double elapsed_seconds,
                            std::size_t bar_width) {
  const double fraction =
      total_seconds > 0 ? std::clamp(done_seconds / total_seconds, 0.0, 1.0) : 1.0;
  const auto filled = static_cast<std::size_t>(fraction * static_cast<double>(bar_width));
  // append(), not operator+: GCC 12 warns falsely (-Wrestrict) on "[" + std::string.
  std::string bar("[");
  bar.append(filled, '#').append(bar_width - filled, ' ').append("]");
  const double speed = elapsed_seconds > 0 ? done_seconds / elapsed_seconds : 0.0;
  std::string left = "-";
  if (speed > 0) left = printf_string("%.1f s left", (total_seconds - done_seconds) / speed);
  return bar +
         printf_string(" %3.0f%%  %.1f of %.1f s  %.1fx real time  ", 100.0 * fraction,
                       done_seconds, total_seconds, speed) +
         left;
}

void TerminalStatus::update_live(RunStatistics now, double added_latency_ms) {
  const auto time = std::chrono::steady_clock::now();
  // Keep the newest reading that is at least a second old, and everything after it.
  while (readings_.size() > 1 && time - readings_[1].first >= std::chrono::seconds(1)) {
    readings_.pop_front();
  }
  // The first reading has nothing to compare with: its loads cover the run so far.
  draw(format_live_status(now, readings_.empty() ? RunStatistics{} : readings_.front().second,
                          added_latency_ms));
  readings_.emplace_back(time, std::move(now));
}

void TerminalStatus::update_progress(double done_seconds, double total_seconds) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - progress_started_).count();
  draw({format_progress(done_seconds, total_seconds, elapsed)});
}

void TerminalStatus::draw(const std::vector<std::string>& lines) {
  // Lines are cut to the terminal's width, read at every redraw (so a resize is followed): a
  // line that wrapped would take two rows, and going back up by lines would leave one behind.
  std::size_t width = 0;
  winsize size{};
  if (ioctl(fileno(terminal_), TIOCGWINSZ, &size) == 0 && size.ws_col > 1) width = size.ws_col - 1;
  // Back to the first line drawn last time; each line is cleared to its end as it is rewritten
  // and whatever is left below is cleared at the end (the table may have shrunk).
  if (drawn_lines_ > 0) std::fprintf(terminal_, "\033[%zuA", drawn_lines_);
  for (const std::string& line : lines) {
    const std::string shown = width && line.size() > width ? line.substr(0, width) : line;
    std::fprintf(terminal_, "\r\033[K%s\n", shown.c_str());
  }
  std::fputs("\033[J", terminal_);
  std::fflush(terminal_);
  drawn_lines_ = lines.size();
}

void TerminalStatus::clear() {
  if (drawn_lines_ == 0) return;
  std::fprintf(terminal_, "\033[%zuA\r\033[J", drawn_lines_);
  std::fflush(terminal_);
  drawn_lines_ = 0;
}

}  // namespace synthfarm
