#include "bench/idle_wake_probe.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <thread>
#include <utility>

namespace synthfarm::bench {
namespace {

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;

std::int64_t to_nanos(const timespec& time) {
  return std::int64_t{time.tv_sec} * kNanosPerSecond + time.tv_nsec;
}

timespec from_nanos(std::int64_t nanos) {
  return {static_cast<time_t>(nanos / kNanosPerSecond), static_cast<long>(nanos % kNanosPerSecond)};
}

struct Probe {
  int cpu = 0;
  std::vector<double> lateness_us;
  bool realtime = false;
  int pin_error = 0;  // errno of a refused pinning; the probe then measures nothing
};

// Thread: its own probe thread. Lateness goes into storage reserved before the first deadline,
// so that nothing it does between wake-ups keeps the CPU from going idle.
void run_probe(Probe& probe, std::int64_t interval_ns, std::uint64_t deadlines) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(probe.cpu, &one);
  probe.pin_error = pthread_setaffinity_np(pthread_self(), sizeof one, &one);
  if (probe.pin_error != 0) return;
  // The lowest real-time priority when allowed: a runnable thread of the machine then never
  // delays it, so what remains is the wake-up itself (refused: SCHED_OTHER, said in the report).
  sched_param lowest{};
  lowest.sched_priority = 1;
  probe.realtime = pthread_setschedparam(pthread_self(), SCHED_FIFO, &lowest) == 0;
  probe.lateness_us.reserve(deadlines);
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  std::int64_t deadline = to_nanos(now);
  for (std::uint64_t i = 0; i < deadlines; ++i) {
    deadline += interval_ns;
    const timespec wake_at = from_nanos(deadline);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &wake_at, nullptr) == EINTR) {
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    probe.lateness_us.push_back(static_cast<double>(to_nanos(now) - deadline) / 1000.0);
  }
}

}  // namespace

void summarize_lateness(std::vector<double> lateness_us, IdleWakeLatency& into) {
  std::sort(lateness_us.begin(), lateness_us.end());
  into.sorted_lateness_us = std::move(lateness_us);
  const std::vector<double>& sorted = into.sorted_lateness_us;
  into.wakes = sorted.size();
  if (sorted.empty()) {
    into.median_us = into.p99_us = into.max_us = 0.0;
    return;
  }
  const auto rank = [&](double share) {
    const auto index =
        static_cast<std::size_t>(std::ceil(share * static_cast<double>(sorted.size())));
    return sorted[std::clamp<std::size_t>(index, 1, sorted.size()) - 1];
  };
  into.median_us = rank(0.5);
  into.p99_us = rank(0.99);
  into.max_us = sorted.back();
}

std::uint64_t wakes_later_than(const IdleWakeLatency& latency, double threshold_us) {
  const auto& sorted = latency.sorted_lateness_us;
  return static_cast<std::uint64_t>(sorted.end() -
                                    std::upper_bound(sorted.begin(), sorted.end(), threshold_us));
}

std::optional<IdleWakeLatency> measure_idle_wake_latency(double seconds, double interval_us,
                                                         std::string& error) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
    error = std::string("cannot read the CPUs this process may use: ") + std::strerror(errno);
    return std::nullopt;
  }
  std::vector<Probe> probes;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &allowed)) probes.push_back(Probe{cpu, {}, false, 0});
  }
  const auto interval_ns = static_cast<std::int64_t>(interval_us * 1000.0);
  const auto deadlines =
      static_cast<std::uint64_t>(seconds * 1e9 / static_cast<double>(interval_ns));
  std::vector<std::thread> threads;
  threads.reserve(probes.size());
  for (Probe& probe : probes)
    threads.emplace_back(run_probe, std::ref(probe), interval_ns, deadlines);
  for (std::thread& thread : threads) thread.join();

  IdleWakeLatency latency;
  latency.seconds = seconds;
  latency.interval_us = interval_us;
  latency.realtime = true;
  std::vector<double> all;
  for (const Probe& probe : probes) {
    if (probe.pin_error != 0) continue;
    ++latency.cpus;
    latency.realtime = latency.realtime && probe.realtime;
    all.insert(all.end(), probe.lateness_us.begin(), probe.lateness_us.end());
  }
  if (latency.cpus == 0) {
    error = "could not pin a wake-up probe to any CPU: " +
            std::string(probes.empty() ? "no CPU is allowed" : std::strerror(probes[0].pin_error));
    return std::nullopt;
  }
  summarize_lateness(std::move(all), latency);
  return latency;
}

std::string describe_idle_wake_latency(const IdleWakeLatency& latency, double period_us,
                                       std::uint32_t smallest_buffers) {
  char text[512];
  std::snprintf(text, sizeof text,
                "median %.3f ms, 99th percentile %.3f ms, max %.3f ms late (%u CPUs, %g s each, "
                "a timer every %g ms at %s)",
                latency.median_us / 1000.0, latency.p99_us / 1000.0, latency.max_us / 1000.0,
                latency.cpus, latency.seconds, latency.interval_us / 1000.0,
                latency.realtime ? "SCHED_FIFO 1" : "SCHED_OTHER");
  std::string line = text;
  // With B buffers rendered ahead, a block has (B - 1) periods to spare at best.
  const double spare_us = (static_cast<double>(smallest_buffers) - 1.0) * period_us;
  if (latency.max_us > spare_us) {
    std::snprintf(text, sizeof text,
                  "; %llu of %llu later than the %.2f ms a block has to spare at %u buffers, "
                  "where one such wake-up underruns whatever the load: capacity at that "
                  "latency is this machine's limit, not the CPUs'",
                  static_cast<unsigned long long>(wakes_later_than(latency, spare_us)),
                  static_cast<unsigned long long>(latency.wakes), spare_us / 1000.0,
                  smallest_buffers);
    line += text;
  }
  return line;
}

}  // namespace synthfarm::bench
