// synthfarm: plays N worker processes of pyo SineLoop oscillators through one audio output;
// `synthfarm ctl ...` sends a command to one that is running.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "coordinator/control/control_client.h"
#include "coordinator/coordinator_run.h"
#include "coordinator/output/device_list.h"
#include "coordinator/plan/cli_options.h"

namespace {

void print(std::FILE* stream, const std::string& text) {
  std::fprintf(stream, "%s%s", text.c_str(), text.empty() || text.back() == '\n' ? "" : "\n");
}

int print_exit(const synthfarm::CliExit& exit) {
  print(exit.to_stdout ? stdout : stderr, exit.text);
  return exit.exit_code;
}

int run_ctl(int argc, const char* const argv[]) {
  const auto parsed = synthfarm::parse_ctl_cli(argc, argv);
  if (const auto* exit = std::get_if<synthfarm::CliExit>(&parsed)) return print_exit(*exit);
  const synthfarm::CtlResult result =
      synthfarm::send_control_command(std::get<synthfarm::CtlOptions>(parsed));
  if (!result.out.empty()) std::fputs(result.out.c_str(), stdout);
  if (!result.err.empty()) std::fputs(result.err.c_str(), stderr);
  if (result.interrupted_by != 0) {
    // Its FIFO is gone: now die of the signal, so that a calling shell or script stops too.
    std::fflush(nullptr);
    std::signal(result.interrupted_by, SIG_DFL);
    std::raise(result.interrupted_by);
  }
  return result.exit_code;
}

int list_devices(const synthfarm::Options& options) {
  const auto devices = synthfarm::list_audio_devices(options.audio);
  if (options.json) {
    print(stdout, synthfarm::format_device_json(devices));
  } else {
    print(stdout, devices.empty() ? synthfarm::explain_no_devices(options.audio)
                                  : synthfarm::format_device_table(devices));
  }
  return synthfarm::kExitOk;
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc > 1 && std::strcmp(argv[1], "ctl") == 0) return run_ctl(argc - 1, argv + 1);
  const char* simd_environment = std::getenv(synthfarm::kSimdEnvironmentVariable);
  auto parsed = synthfarm::parse_cli(argc, argv, simd_environment ? simd_environment : "");
  if (auto* exit = std::get_if<synthfarm::CliExit>(&parsed)) return print_exit(*exit);
  const auto& options = std::get<synthfarm::Options>(parsed);
  if (options.action == synthfarm::Action::kListDevices) return list_devices(options);
  std::string error;
  const auto plan = synthfarm::plan_oscillators(options, error);
  if (!plan) {
    std::fprintf(stderr, "synthfarm: %s\n", error.c_str());
    return synthfarm::kExitUsage;
  }
  return synthfarm::run_coordinator(options, *plan);
}
