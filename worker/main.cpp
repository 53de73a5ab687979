// synthfarm-worker: renders one oscillator group for a synthfarm coordinator.
#include <csignal>
#include <cstdio>

#include "worker/render_loop.h"
#include "worker/worker_arguments.h"

int main(int argc, char* argv[]) {
  // Ctrl-C in a terminal reaches the whole process group; the coordinator decides when its
  // workers stop (after fading out), so they ignore the terminal's signals.
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGHUP, SIG_IGN);
  auto parsed = synthfarm::parse_worker_arguments(argc, argv);
  if (auto* message = std::get_if<std::string>(&parsed)) {
    std::fprintf(stderr, "%s\n", message->c_str());
    return 2;
  }
  return synthfarm::run_worker(std::get<synthfarm::WorkerArguments>(parsed));
}
