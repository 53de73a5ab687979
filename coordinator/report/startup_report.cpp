#include "coordinator/report/startup_report.h"

#include <cinttypes>

#include "coordinator/control/control_protocol.h"
#include "coordinator/report/printf_string.h"
#include "shared/realtime_setup.h"

namespace synthfarm {

std::string format_startup_report(const Options& options, const OscillatorPlan& plan,
                                  const StartupFacts& facts) {
  std::string text = printf_string(
      "synthfarm %s: %u workers, %" PRIu64 " oscillators (pyo SineLoop), feedback %g, mul %g\n",
      SYNTHFARM_VERSION, options.workers, static_cast<std::uint64_t>(plan.frequencies_hz.size()),
      options.feedback, options.mul);
  text += "synthfarm: kernel " + describe_kernel(options.kernel, options.simd) + "\n";
  if (plan.seed) {
    text += printf_string("synthfarm: frequencies %g-%g Hz drawn with seed %" PRIu64
                          " (repeat this run with --seed %" PRIu64 ")\n",
                          options.freq_min_hz, options.freq_max_hz, *plan.seed, *plan.seed);
  } else {
    text += "synthfarm: frequencies from " + options.freqs_file + "\n";
  }
  const bool offline = options.offline();
  if (offline) {
    text += printf_string(
        "synthfarm: rendering %.6g s offline to %s (float32 WAV, %u Hz, %u channels)\n",
        options.duration_seconds.value_or(0.0), options.output_path.c_str(), facts.sample_rate_hz,
        options.channels);
  } else {
    text += printf_string("synthfarm: output: %s, %u channels\n", facts.output_description.c_str(),
                          options.channels);
    text += printf_string(
        "synthfarm: added latency %u frames (%.1f ms): each worker renders %u buffers ahead "
        "(--buffers)\n",
        facts.added_latency_frames, 1000.0 * facts.added_latency_frames / facts.sample_rate_hz,
        options.buffers);
  }
  if (!facts.recording_path.empty()) {
    text += printf_string("synthfarm: recording to %s (float32 WAV, %u Hz, %u channels)\n",
                          facts.recording_path.c_str(), facts.sample_rate_hz, options.channels);
  }
  if (!options.report_path.empty()) {
    text += "synthfarm: report at exit to " + options.report_path + "\n";
  }
  // Each worker locked its own memory before it attached (render_loop.cpp), unless offline.
  if (offline) {
    text += "synthfarm: workers: memory not locked (offline: no deadline)\n";
  } else {
    text +=
        "synthfarm: " +
        describe_worker_memory(static_cast<unsigned>(facts.worker_pids.size()),
                               facts.worker_memory_lock_failures, facts.first_memory_lock_errno) +
        "\n";
  }
  if (!facts.waker_scheduling.empty()) {
    text += "synthfarm: scheduling: audio thread " + facts.audio_thread_priority + ", waker " +
            facts.waker_scheduling + ", workers below the waker" +
            (facts.not_realtime_reason.empty()
                 ? std::string()
                 : " (none of ours real-time: " + facts.not_realtime_reason + ")") +
            "\n";
  }
  text += "synthfarm: control FIFO " + facts.control_fifo_path + " (" + kControlHelp +
          "; or synthfarm ctl --name " + options.name + " COMMAND)\n";
  for (std::uint32_t w = 0; w < facts.worker_pids.size() && w < facts.groups.size(); ++w) {
    const WorkerGroup& group = facts.groups[w];
    text += printf_string("synthfarm: worker %u pid %d plays oscillators %" PRIu64 "-%" PRIu64, w,
                          facts.worker_pids[w], group.first_oscillator,
                          group.first_oscillator + group.oscillator_count - 1);
    if (w < facts.worker_scheduling.size()) text += ", " + facts.worker_scheduling[w];
    text += "\n";
  }
  return text;
}

}  // namespace synthfarm
