#pragma once
// The status lines (the FIFO's `status`, and `final:` at exit) and the closing lines of a run,
// as text. Pure formatters: plain data in, whole lines (each ending in a newline) out; the
// caller prints. Scripts and tests read these lines: change a word only with them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "coordinator/report/run_statistics.h"

namespace synthfarm {

// Thread: any. Allocates. `label` is "status" or "final":
//   <label>: seconds=... timeline_frames=... callbacks=... callback_avg_us=... ...
//   <label> recording: path=... frames_written=... frames_dropped=...   (when recording)
//   <label> worker <n>: state=... pid=... oscillators=... rendered_frames=... ...
std::string format_status_text(std::string_view label, const RunStatistics& statistics,
                               const std::optional<RecordingStatistics>& recording);

// Thread: any. Allocates. "synthfarm: recorded <frames> frames (<s> s) to <path>, <n> frames
// dropped", after a run with --record.
std::string format_recording_summary(const RecordingStatistics& recording,
                                     std::uint32_t sample_rate_hz);

// Thread: any. Allocates. The message (for stderr, after "synthfarm: ") when a recording lost
// frames that it did not write in time, or nullopt when it lost none.
std::optional<std::string> describe_dropped_recording(const RecordingStatistics& recording);

// Thread: any. Allocates. "synthfarm: wrote <frames> frames (<s> s) to <path>", after an
// offline render.
std::string format_render_summary(std::uint64_t frames_written, std::uint32_t sample_rate_hz,
                                  const std::string& path);

}  // namespace synthfarm
