#include "coordinator/report/status_text.h"

#include <sched.h>

#include <cinttypes>

#include "coordinator/report/printf_string.h"

namespace synthfarm {
namespace {

// "NAME=SCHED_FIFO NAME_priority=68", or with SCHED_OTHER "NAME=SCHED_OTHER NAME_nice=-10";
// NAME_errno=N after a refusal; "NAME=unknown" before it is known.
std::string scheduling_fields(const std::string& name, const AppliedScheduling& scheduling) {
  // append(), not operator+: GCC 12 warns falsely (-Wrestrict) on " " + std::string.
  std::string text = name;
  if (scheduling.policy < 0) return text.append("=unknown");
  text.append("=").append(scheduling_policy_name(scheduling.policy)).append(" ").append(name);
  if (scheduling.policy == SCHED_FIFO || scheduling.policy == SCHED_RR) {
    text.append("_priority=").append(std::to_string(scheduling.priority));
  } else {
    text.append("_nice=").append(std::to_string(scheduling.nice));
  }
  if (scheduling.error != 0) {
    text.append(" ").append(name).append("_errno=").append(std::to_string(scheduling.error));
  }
  return text;
}

}  // namespace

std::string format_status_text(std::string_view label_view, const RunStatistics& run,
                               const std::optional<RecordingStatistics>& recording) {
  const std::string label(label_view);
  std::string text = printf_string(
      "%s: seconds=%.3f timeline_frames=%" PRIu64 " callbacks=%" PRIu64
      " callback_avg_us=%.1f callback_p99_us=%.1f callback_max_us=%.1f period_us=%.1f "
      "device_underflows=%" PRIu64 " server_xruns=%" PRIu64 " nonfinite_samples=%" PRIu64
      " limited_samples=%" PRIu64 " gain_db=%.2f\n",
      label.c_str(), run.seconds(), run.timeline_frames, run.callbacks,
      run.callback.mean_ns() / 1e3, static_cast<double>(run.callback.quantile_ns(0.99)) / 1e3,
      static_cast<double>(run.callback.max_ns) / 1e3, run.period_ns() / 1e3, run.device_underflows,
      run.server_xruns, run.nonfinite_samples, run.limited_samples, run.gain_db);
  if (recording) {
    text += printf_string("%s recording: path=%s frames_written=%" PRIu64 " frames_dropped=%" PRIu64
                          "\n",
                          label.c_str(), recording->path.c_str(), recording->frames_written,
                          recording->frames_dropped);
  }
  if (run.audio_thread.policy >= 0 || run.waker.policy >= 0) {
    text.append(label)
        .append(" scheduling: ")
        .append(scheduling_fields("audio_thread", run.audio_thread))
        .append(" ")
        .append(scheduling_fields("waker", run.waker))
        .append(printf_string(" rt_throttle_share=%.3f\n", run.realtime_throttle_share));
  }
  for (const WorkerStatistics& worker : run.workers) {
    // Render time as a share of the period: the load a worker puts on one core.
    const double load =
        worker.render_time.count ? 100.0 * worker.render_time.mean_ns() / run.period_ns() : 0.0;
    text += printf_string(
        "%s worker %u: state=%s pid=%d oscillators=%u rendered_frames=%" PRIu64
        " underrun_frames=%" PRIu64 " late_blocks=%" PRIu64 " discarded_frames=%" PRIu64
        " render_load=%.1f%% render_max_us=%.1f feedback=%g mul=%g\n",
        label.c_str(), worker.index, worker.state.c_str(), worker.pid, worker.oscillators,
        worker.rendered_frames, worker.underrun_frames, worker.late_blocks, worker.discarded_frames,
        load, static_cast<double>(worker.render_time.max_ns) / 1e3,
        static_cast<double>(worker.feedback), static_cast<double>(worker.mul));
    text.pop_back();  // the newline: the scheduling fields follow on the same line
    text.append(" ")
        .append(scheduling_fields("sched", worker.scheduling))
        .append(" near_rt_throttling=")
        .append(run.near_realtime_throttling(worker, worker.render_time) ? "yes\n" : "no\n");
  }
  return text;
}

std::string format_recording_summary(const RecordingStatistics& recording,
                                     std::uint32_t sample_rate_hz) {
  return printf_string(
      "synthfarm: recorded %" PRIu64 " frames (%.3f s) to %s, %" PRIu64 " frames dropped\n",
      recording.frames_written, static_cast<double>(recording.frames_written) / sample_rate_hz,
      recording.path.c_str(), recording.frames_dropped);
}

std::optional<std::string> describe_dropped_recording(const RecordingStatistics& recording) {
  if (recording.frames_dropped == 0) return std::nullopt;
  return "--record: " + std::to_string(recording.frames_dropped) +
         " frames could not be written in time and are missing from " + recording.path +
         " (is the disk slow or busy?)";
}

std::string format_render_summary(std::uint64_t frames_written, std::uint32_t sample_rate_hz,
                                  const std::string& path) {
  return printf_string("synthfarm: wrote %" PRIu64 " frames (%.3f s) to %s\n", frames_written,
                       static_cast<double>(frames_written) / sample_rate_hz, path.c_str());
}

}  // namespace synthfarm
