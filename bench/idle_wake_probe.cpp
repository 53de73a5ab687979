#include "bench/idle_wake_probe.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <system_error>
#include <thread>
#include <utility>

#include "shared/realtime_counters.h"

namespace synthfarm::bench {
namespace {

// One CPU's probe. Thread: written only by its probe thread until that thread is joined, then
// read by the main thread.
struct Probe {
  int cpu = 0;
  std::vector<double> lateness_us;  // sized before the first deadline; `wakes` of it used
  std::uint64_t wakes = 0;
  std::uint64_t missed = 0;
  bool realtime = false;
  int pin_error = 0;  // errno of a refused pinning; the probe then measures nothing
};

// Thread: its own probe thread. Its storage exists, pages touched, before the first deadline:
// a page fault between two wake-ups would be work on a CPU that is meant to be idle.
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
  probe.lateness_us.assign(deadlines, 0.0);
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const std::int64_t start = timespec_to_ns(now);
  std::uint64_t deadline = 1;
  while (deadline <= deadlines) {
    const std::int64_t due = start + static_cast<std::int64_t>(deadline) * interval_ns;
    const timespec wake_at = timespec_from_ns(due);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &wake_at, nullptr) == EINTR) {
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    const std::int64_t late = timespec_to_ns(now) - due;
    probe.lateness_us[probe.wakes++] = static_cast<double>(late) / 1000.0;
    // Deadlines that passed while it slept are not wake-ups of their own, as for the null
    // clock: one stall of 16 ms is one late wake-up and 15 missed deadlines, not 16 samples.
    const std::uint64_t skipped = deadlines_passed(late, interval_ns, deadlines - deadline);
    probe.missed += skipped;
    deadline += 1 + skipped;
  }
}

}  // namespace

std::uint64_t deadlines_passed(std::int64_t late_ns, std::int64_t interval_ns,
                               std::uint64_t remaining) {
  if (late_ns <= 0 || interval_ns <= 0) return 0;
  return std::min(static_cast<std::uint64_t>(late_ns / interval_ns), remaining);
}

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
  if (!(seconds >= 0.05 && seconds <= kMaxWakeProbeSeconds) ||
      !(interval_us >= 100 && interval_us <= 100'000)) {
    error = "idle wake-up probe: " + std::to_string(seconds) + " s at " +
            std::to_string(interval_us) + " us intervals is out of range";
    return std::nullopt;
  }
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
    error = std::string("cannot read the CPUs this process may use: ") + std::strerror(errno);
    return std::nullopt;
  }
  std::vector<Probe> probes;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &allowed)) probes.push_back(Probe{cpu, {}, 0, 0, false, 0});
  }
  const auto interval_ns = static_cast<std::int64_t>(std::llround(interval_us * 1000.0));
  const auto deadlines =
      static_cast<std::uint64_t>(std::llround(seconds * 1e9 / static_cast<double>(interval_ns)));
  std::vector<std::thread> threads;
  threads.reserve(probes.size());
  std::string start_failure;
  for (Probe& probe : probes) {
    try {
      threads.emplace_back(run_probe, std::ref(probe), interval_ns, deadlines);
    } catch (const std::system_error& e) {
      // The probes already running finish their time; the rest are counted as not probed.
      start_failure = e.what();
      probe.pin_error = e.code().value();
    }
  }
  for (std::thread& thread : threads) thread.join();

  IdleWakeLatency latency;
  latency.seconds = seconds;
  latency.interval_us = interval_us;
  latency.realtime = true;
  std::vector<double> all;
  for (Probe& probe : probes) {
    if (probe.pin_error != 0) {
      ++latency.cpus_not_probed;
      continue;
    }
    ++latency.cpus;
    latency.realtime = latency.realtime && probe.realtime;
    latency.missed += probe.missed;
    all.insert(all.end(), probe.lateness_us.begin(),
               probe.lateness_us.begin() + static_cast<std::ptrdiff_t>(probe.wakes));
    std::vector<double>().swap(probe.lateness_us);
  }
  if (latency.cpus == 0) {
    error = "could not start and pin a wake-up probe on any CPU: " +
            (probes.empty()          ? std::string("no CPU is allowed")
             : start_failure.empty() ? std::string(std::strerror(probes[0].pin_error))
                                     : start_failure);
    return std::nullopt;
  }
  summarize_lateness(std::move(all), latency);
  return latency;
}

std::string describe_idle_wake_latency(const IdleWakeLatency& latency, double slack_us,
                                       const std::string& slack_text) {
  char text[512];
  std::snprintf(text, sizeof text,
                "median %.3f ms, 99th percentile %.3f ms, max %.3f ms late (%u CPUs, %g s each, "
                "a timer every %g ms at %s)",
                latency.median_us / 1000.0, latency.p99_us / 1000.0, latency.max_us / 1000.0,
                latency.cpus, latency.seconds, latency.interval_us / 1000.0,
                latency.realtime ? "SCHED_FIFO 1" : "SCHED_OTHER");
  std::string line = text;
  if (latency.cpus_not_probed > 0) {
    std::snprintf(text, sizeof text, " (%u more CPUs allowed but not probed: no thread or pinning)",
                  latency.cpus_not_probed);
    line += text;
  }
  const std::uint64_t beyond = wakes_later_than(latency, slack_us);
  if (slack_us > 0 && beyond > 0) {
    std::snprintf(text, sizeof text,
                  "; %llu of %llu wake-ups later than %.2f ms (%s), and a probe fails on one "
                  "whatever its load: capacity at this latency is the machine's limit, not the "
                  "CPUs'",
                  static_cast<unsigned long long>(beyond),
                  static_cast<unsigned long long>(latency.wakes), slack_us / 1000.0,
                  slack_text.c_str());
    line += text;
  }
  return line;
}

}  // namespace synthfarm::bench
