// synthfarm: plays N worker processes of pyo SineLoop oscillators through one audio output.
#include <cstdio>
#include <cstdlib>

#include "coordinator/cli_options.h"
#include "coordinator/coordinator.h"

int main(int argc, char* argv[]) {
  const char* simd_environment = std::getenv(synthfarm::kSimdEnvironmentVariable);
  auto parsed = synthfarm::parse_cli(argc, argv, simd_environment ? simd_environment : "");
  if (auto* exit = std::get_if<synthfarm::CliExit>(&parsed)) {
    std::fprintf(exit->to_stdout ? stdout : stderr, "%s%s", exit->text.c_str(),
                 exit->text.empty() || exit->text.back() == '\n' ? "" : "\n");
    return exit->exit_code;
  }
  const auto& options = std::get<synthfarm::Options>(parsed);
  std::string error;
  const auto plan = synthfarm::plan_oscillators(options, error);
  if (!plan) {
    std::fprintf(stderr, "synthfarm: %s\n", error.c_str());
    return synthfarm::kExitUsage;
  }
  return synthfarm::run_coordinator(options, *plan);
}
