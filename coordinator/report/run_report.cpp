#include "coordinator/report/run_report.h"

#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace synthfarm {
namespace {

const char* failure_policy_name(WorkerFailurePolicy policy) {
  switch (policy) {
    case WorkerFailurePolicy::kSilence:
      return "silence";
    case WorkerFailurePolicy::kAbort:
      return "abort";
    case WorkerFailurePolicy::kRestart:
      return "restart";
  }
  return "?";
}

// min, median, 99th percentile, max and mean in ns, and the count; shares of the period too
// when given one. Percentiles are bucket midpoints (within 1/32 of the true value).
// {"policy": "SCHED_FIFO", "priority": 68, "nice": 0, "error": null}; null when unknown.
nlohmann::json scheduling_json(const AppliedScheduling& scheduling) {
  if (scheduling.policy < 0) return nullptr;
  return {{"policy", scheduling_policy_name(scheduling.policy)},
          {"realtime", scheduling.policy == SCHED_FIFO || scheduling.policy == SCHED_RR},
          {"priority", scheduling.priority},
          {"nice", scheduling.nice},
          {"error", scheduling.error == 0 ? nlohmann::json()
                                          : nlohmann::json(std::strerror(scheduling.error))}};
}

nlohmann::json durations_json(const DurationSummary& summary, double period_ns) {
  nlohmann::json json = {{"count", summary.count},
                         {"min_ns", summary.min_ns},
                         {"median_ns", summary.quantile_ns(0.5)},
                         {"p99_ns", summary.quantile_ns(0.99)},
                         {"max_ns", summary.max_ns},
                         {"mean_ns", summary.mean_ns()}};
  if (period_ns > 0) {
    json["period_ns"] = period_ns;
    json["mean_share_of_period"] = summary.mean_ns() / period_ns;
    json["p99_share_of_period"] = static_cast<double>(summary.quantile_ns(0.99)) / period_ns;
    json["max_share_of_period"] = static_cast<double>(summary.max_ns) / period_ns;
  }
  return json;
}

// The process's umask, read without changing it (umask() would change it for every thread
// for a moment). Linux has shown it in /proc/self/status since 4.7; 022 otherwise.
mode_t current_umask() {
  std::FILE* status = std::fopen("/proc/self/status", "r");
  if (status == nullptr) return 022;
  char line[256];
  unsigned mask = 022;
  while (std::fgets(line, sizeof line, status)) {
    if (std::sscanf(line, "Umask: %o", &mask) == 1) break;
  }
  std::fclose(status);
  return static_cast<mode_t>(mask);
}

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm parts{};
  gmtime_r(&now, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

nlohmann::json configuration_json(const Options& options, const OscillatorPlan& plan,
                                  std::uint32_t sample_rate_hz, std::uint32_t block_frames) {
  return {{"workers", options.workers},
          {"oscillators", plan.frequencies_hz.size()},
          {"freq_min_hz", options.freq_min_hz},
          {"freq_max_hz", options.freq_max_hz},
          {"feedback", options.feedback},
          {"mul", options.mul},
          {"seed", plan.seed ? nlohmann::json(*plan.seed) : nlohmann::json()},
          {"freqs_file", options.freqs_file},
          {"kernel", kernel_kind_name(options.kernel)},
          {"simd", options.simd.name},
          {"sample_rate_hz", sample_rate_hz},
          {"block_frames", block_frames},
          {"channels", options.channels},
          {"buffers", options.buffers},
          {"cpus", options.cpus},
          {"audio", audio_api_name(options.audio)},
          {"output_path", options.output_path},
          {"record_path", options.record_path},
          {"duration_seconds",
           options.duration_seconds ? nlohmann::json(*options.duration_seconds) : nlohmann::json()},
          {"name", options.name},
          {"control_path", options.control_path},
          {"on_worker_failure", failure_policy_name(options.on_worker_failure)}};
}

std::string dump(const nlohmann::json& report) {
  // A path may hold bytes that are not UTF-8 (file names are bytes): replace them rather than
  // throw, so a report is always written.
  return report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace

std::string format_failed_start_report(const Options& options, const OscillatorPlan& plan,
                                       const std::string& error, int exit_code) {
  return dump({{"synthfarm_version", SYNTHFARM_VERSION},
               {"written_at", utc_now()},
               {"reason", "exit"},
               {"exit_code", exit_code},
               {"played", false},
               {"error", error},
               {"configuration",
                configuration_json(options, plan, options.sample_rate_hz, options.block_frames)}});
}

std::string format_run_report(const RunReportContext& context, const RunStatistics& statistics,
                              const std::string& reason, std::optional<int> exit_code) {
  const Options& options = *context.options;
  const double period_ns = statistics.period_ns();
  nlohmann::json reseeds = nlohmann::json::array();
  for (const RunReportContext::Reseed& reseed : context.reseeds) {
    reseeds.push_back(
        {{"workers", reseed.workers}, {"seed", reseed.seed}, {"at_seconds", reseed.at_seconds}});
  }
  const nlohmann::json configuration = configuration_json(
      options, *context.plan, statistics.sample_rate_hz, statistics.block_frames);
  nlohmann::json workers = nlohmann::json::array();
  for (const WorkerStatistics& worker : statistics.workers) {
    workers.push_back(
        {{"index", worker.index},
         {"pid", worker.pid},
         {"state", worker.state},
         {"ended", worker.ended.empty() ? nlohmann::json() : nlohmann::json(worker.ended)},
         {"oscillators", worker.oscillators},
         {"feedback", worker.feedback},
         {"mul", worker.mul},
         {"rendered_frames", worker.rendered_frames},
         {"underrun_frames", worker.underrun_frames},
         {"late_blocks", worker.late_blocks},
         {"discarded_frames", worker.discarded_frames},
         {"render_time", durations_json(worker.render_time, period_ns)},
         {"scheduling", scheduling_json(worker.scheduling)},
         {"near_realtime_throttling",
          statistics.near_realtime_throttling(worker, worker.render_time)}});
  }
  nlohmann::json report = {
      {"synthfarm_version", SYNTHFARM_VERSION},
      {"written_at", utc_now()},
      {"reason", reason},
      {"exit_code", exit_code ? nlohmann::json(*exit_code) : nlohmann::json()},
      {"played", true},
      {"error", context.error},
      {"reseeds", reseeds},
      {"configuration", configuration},
      {"output",
       {{"description", context.output},
        {"sample_rate_hz", statistics.sample_rate_hz},
        {"buffer_frames", statistics.block_frames},
        {"added_latency_frames", context.added_latency_frames},
        {"added_latency_ms", 1000.0 * context.added_latency_frames / statistics.sample_rate_hz},
        {"realtime_scheduling", context.realtime_scheduling},
        {"audio_thread_scheduling", scheduling_json(statistics.audio_thread)},
        {"waker_scheduling", scheduling_json(statistics.waker)},
        {"realtime_throttle_share", statistics.realtime_throttle_share},
        {"memory", context.memory}}},
      {"timeline_frames", statistics.timeline_frames},
      {"seconds", statistics.seconds()},
      {"gain_db", statistics.gain_db},
      {"callback", durations_json(statistics.callback, period_ns)},
      {"device_underflows", statistics.device_underflows},
      {"server_xruns", statistics.server_xruns},
      {"nonfinite_samples_replaced", statistics.nonfinite_samples},
      {"limited_samples", statistics.limited_samples},
      {"workers", workers}};
  if (context.recording) {
    report["recording"] = {{"path", context.recording->path},
                           {"frames_written", context.recording->frames_written},
                           {"frames_dropped", context.recording->frames_dropped},
                           {"error", context.recording->error}};
  } else {
    report["recording"] = nullptr;
  }
  return dump(report);
}

bool write_text_file_atomically(const std::string& path, const std::string& text,
                                std::string& error) {
  // A fresh, unpredictable temporary name beside the target (mkstemp: O_EXCL, never follows a
  // planted symlink), synced before the rename so a crash leaves the old file or the new one.
  std::string temporary = path + ".XXXXXX";
  const int fd = mkstemp(temporary.data());
  if (fd < 0) {
    error = "cannot write " + path + ": " + std::strerror(errno);
    return false;
  }
  const auto failed = [&](int code) {
    error = "cannot write " + path + ": " + std::strerror(code);
    close(fd);
    unlink(temporary.c_str());
    return false;
  };
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t count = write(fd, text.data() + written, text.size() - written);
    if (count < 0 && errno == EINTR) continue;
    if (count <= 0) return failed(count < 0 ? errno : EIO);
    written += static_cast<std::size_t>(count);
  }
  // mkstemp creates 0600; a report is an ordinary file: what the umask allows.
  if (fchmod(fd, 0666 & ~current_umask()) != 0 || fsync(fd) != 0) return failed(errno);
  if (close(fd) != 0) {
    const int code = errno;
    unlink(temporary.c_str());
    error = "cannot write " + path + ": " + std::strerror(code);
    return false;
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    error = "cannot write " + path + ": " + std::strerror(errno);
    unlink(temporary.c_str());
    return false;
  }
  return true;
}

bool check_file_can_be_created(const std::string& path, const char* option, std::string& error) {
  std::filesystem::path directory = std::filesystem::path(path).parent_path();
  if (directory.empty()) directory = ".";
  std::error_code status_error;
  if (!std::filesystem::is_directory(directory, status_error)) {
    error = std::string(option) + " " + path + ": the directory " + directory.string() +
            " does not exist; create it or choose another path";
    return false;
  }
  if (access(directory.c_str(), W_OK) != 0) {
    error = std::string(option) + " " + path + ": cannot create files in " + directory.string() +
            " (" + std::strerror(errno) + "); choose another path";
    return false;
  }
  if (std::filesystem::is_directory(path, status_error)) {
    error = std::string(option) + " " + path + " is a directory; give a file name";
    return false;
  }
  return true;
}

}  // namespace synthfarm
