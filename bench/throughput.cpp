#include "bench/throughput.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

extern char** environ;

namespace synthfarm::bench {
namespace {

struct RunTimes {
  double wall_seconds = 0.0;
  double cpu_seconds = 0.0;
};

double seconds_of(const timeval& time) {
  return static_cast<double>(time.tv_sec) + 1e-6 * static_cast<double>(time.tv_usec);
}

std::string tail_of(const std::filesystem::path& log) {
  std::ifstream file(log);
  std::stringstream text;
  text << file.rdbuf();
  std::string all = text.str();
  constexpr std::size_t kTail = 2000;
  return all.size() > kTail ? "..." + all.substr(all.size() - kTail) : all;
}

// One offline render; synthfarm's stdout and stderr go to a log that is shown on failure.
std::optional<RunTimes> run_synthfarm(const std::string& synthfarm, std::uint32_t workers,
                                      std::uint32_t sines, const ThroughputOptions& options,
                                      std::string& error) {
  static unsigned sequence = 0;
  const std::string stem =
      "synthfarm-bench-" + std::to_string(getpid()) + "-" + std::to_string(sequence++);
  const std::filesystem::path directory = std::filesystem::temp_directory_path();
  const std::filesystem::path wav = directory / (stem + ".wav");
  const std::filesystem::path log = directory / (stem + ".log");
  char seconds_text[32];
  std::snprintf(seconds_text, sizeof seconds_text, "%g", options.seconds);
  std::vector<std::string> arguments = {synthfarm,
                                        "--workers",
                                        std::to_string(workers),
                                        "--sines",
                                        std::to_string(sines),
                                        "--seed",
                                        "1",
                                        "--output",
                                        wav.string(),
                                        "--duration",
                                        seconds_text,
                                        "--kernel",
                                        options.kernel,
                                        "--name",
                                        stem};
  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t child = 0;
  const auto start = std::chrono::steady_clock::now();
  const int spawned =
      posix_spawn(&child, synthfarm.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    error = "cannot start " + synthfarm + ": " + std::strerror(spawned);
    return std::nullopt;
  }
  int status = 0;
  rusage usage{};
  pid_t reaped = 0;
  do {
    reaped = wait4(child, &status, 0, &usage);
  } while (reaped < 0 && errno == EINTR);
  const auto end = std::chrono::steady_clock::now();
  std::error_code ignored;
  std::filesystem::remove(wav, ignored);
  if (reaped < 0) {
    error = std::string("wait4 for synthfarm failed: ") + std::strerror(errno);
    return std::nullopt;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    error = "synthfarm --workers " + std::to_string(workers) + " --sines " + std::to_string(sines) +
            " failed (" +
            (WIFEXITED(status) ? "exit code " + std::to_string(WEXITSTATUS(status))
                               : "signal " + std::to_string(WTERMSIG(status))) +
            "); its output:\n" + tail_of(log);
    std::filesystem::remove(log, ignored);
    return std::nullopt;
  }
  std::filesystem::remove(log, ignored);
  return RunTimes{std::chrono::duration<double>(end - start).count(),
                  seconds_of(usage.ru_utime) + seconds_of(usage.ru_stime)};
}

}  // namespace

std::optional<std::string> synthfarm_beside_self(std::string& error) {
  std::error_code failure;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", failure);
  if (failure) {
    error = "cannot read /proc/self/exe: " + failure.message();
    return std::nullopt;
  }
  const std::filesystem::path synthfarm = self.parent_path() / "synthfarm";
  if (access(synthfarm.c_str(), X_OK) != 0) {
    error = "cannot run " + synthfarm.string() + ": " + std::strerror(errno) +
            " (build the synthfarm target in the same build directory)";
    return std::nullopt;
  }
  return synthfarm.string();
}

std::optional<std::vector<ThroughputResult>> measure_throughput(const ThroughputOptions& options,
                                                                const std::string& synthfarm,
                                                                unsigned cores,
                                                                std::string& error) {
  std::vector<ThroughputResult> results;
  for (const Scaling scaling : {Scaling::kStrong, Scaling::kWeak}) {
    double rate_of_one_worker = 0.0;  // oscillator-samples per wall second
    for (std::uint32_t workers = 1; workers <= options.max_workers; ++workers) {
      ThroughputResult result;
      result.scaling = scaling;
      result.workers = workers;
      result.sines_per_worker = scaling == Scaling::kWeak
                                    ? options.per_worker
                                    : static_cast<std::uint32_t>(std::max<std::uint64_t>(
                                          1, (options.total_oscillators + workers / 2) / workers));
      result.total_oscillators = std::uint64_t{workers} * result.sines_per_worker;
      std::fprintf(stderr, "synthfarm-bench: %s scaling, %u worker(s) x %u oscillators...\n",
                   scaling == Scaling::kStrong ? "strong" : "weak", workers,
                   result.sines_per_worker);
      const auto times = run_synthfarm(synthfarm, workers, result.sines_per_worker, options, error);
      if (!times) return std::nullopt;
      result.wall_seconds = times->wall_seconds;
      result.cpu_seconds = times->cpu_seconds;
      const double rate = static_cast<double>(result.total_oscillators) / result.wall_seconds;
      if (workers == 1) rate_of_one_worker = rate;
      result.speedup = rate / rate_of_one_worker;
      result.efficiency = result.speedup / std::min<double>(workers, cores);
      results.push_back(result);
    }
  }
  return results;
}

}  // namespace synthfarm::bench
