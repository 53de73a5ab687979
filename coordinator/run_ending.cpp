#include "coordinator/run_ending.h"

#include "coordinator/report/fade_out_text.h"
#include "coordinator/report/run_report.h"
#include "coordinator/report/status_text.h"

namespace synthfarm {

void print_fade_out(RunConsole& console, const RunOutput::FadeOut& fade) {
  const ConsoleLine line = format_fade_out(fade.faded, fade.buffers_after_fade, fade.interrupted,
                                           RunOutput::kBuffersAfterFadeOut);
  if (line.to_stderr) {
    console.err(line.text);
  } else {
    console.out(line.text);
  }
}

int finish_played_run(const Options& options, RunCommands& commands, const RunOutput& output,
                      RunConsole& console, const RunFailure& fail, int exit_code) {
  const std::uint32_t sample_rate_hz = output.sample_rate_hz();
  console.out(commands.status_text("final"));
  if (const auto recording = commands.recording()) {
    console.out(format_recording_summary(*recording, sample_rate_hz));
    if (!recording->error.empty()) {
      console.error("--record: " + recording->error);
      exit_code = kExitFailure;
    } else if (const auto dropped = describe_dropped_recording(*recording)) {
      console.error(*dropped);
    }
  }
  if (const OfflineRender* render = output.render(); render && exit_code == kExitOk) {
    console.out(format_render_summary(render->frames_written(), sample_rate_hz, render->path()));
    if (!render->error().empty()) exit_code = fail(render->error());
  }
  if (const auto report = commands.finish_background_report()) console.command_result(*report);
  if (!options.report_path.empty()) {
    std::string error;
    if (commands.write_report(options.report_path, "exit", exit_code, error)) {
      console.out("synthfarm: report written to " + options.report_path + "\n");
    } else {
      exit_code = fail("--report: " + error);
    }
  }
  return exit_code;
}

void write_failed_start_report(const Options& options, const OscillatorPlan& plan,
                               const std::string& error, int exit_code, RunConsole& console) {
  std::string write_error;
  if (!write_text_file_atomically(options.report_path,
                                  format_failed_start_report(options, plan, error, exit_code),
                                  write_error)) {
    console.error("--report: " + write_error);
  }
}

}  // namespace synthfarm
