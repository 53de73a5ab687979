#pragma once
// How late this machine wakes a thread whose CPU was idle: the floor under every audio
// deadline, measured before a capacity search so that its table can be read for what it is.
//
// Why: a worker sleeps between blocks and is woken when its ring needs filling, and the null
// clock sleeps a period between callbacks. When the machine takes milliseconds to bring an idle
// CPU back (a virtual machine whose idle virtual CPUs halt in the hypervisor, without a cpuidle
// driver, wakes them up to 9 ms late; deep C-states on bare metal cost far less), a search at
// two buffers (one period to spare) fails on wake-ups, not on rendering, and the capacity it
// finds is the machine's, not synthfarm's. Like cyclictest, one timer thread per CPU, each
// pinned and sleeping to absolute deadlines, with nothing else to run in between.
//
// Thread: the bench's main thread; starts and joins one probe thread per CPU. Allocates.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace synthfarm::bench {

struct IdleWakeLatency {
  std::uint32_t cpus = 0;    // CPUs probed, one thread each
  double seconds = 0.0;      // how long each probed
  double interval_us = 0.0;  // between two deadlines
  bool realtime = false;     // the probes ran at SCHED_FIFO 1 (else SCHED_OTHER)
  std::uint64_t wakes = 0;   // all CPUs together
  double median_us = 0.0;    // lateness of a wake-up past its deadline
  double p99_us = 0.0;
  double max_us = 0.0;
  std::vector<double> sorted_lateness_us;  // every wake-up's, ascending
};

// Takes `lateness_us` into `into.sorted_lateness_us`, sorted, and sets `wakes`, the median,
// the 99th percentile (nearest rank) and the maximum; all zero when it is empty.
void summarize_lateness(std::vector<double> lateness_us, IdleWakeLatency& into);

// How many wake-ups were later than `threshold_us`.
std::uint64_t wakes_later_than(const IdleWakeLatency& latency, double threshold_us);

// Probes every CPU this process may run on for `seconds` (0.05 to 600), deadlines
// `interval_us` apart (100 to 100000). Returns nullopt, with the reason in `error`, when no probe
// thread could be started or pinned.
std::optional<IdleWakeLatency> measure_idle_wake_latency(double seconds, double interval_us,
                                                         std::string& error);

// One line for the report's head: the figures, and when the worst wake-up is longer than a
// buffer period (`period_us`), what that does to the smallest buffer count searched.
std::string describe_idle_wake_latency(const IdleWakeLatency& latency, double period_us,
                                       std::uint32_t smallest_buffers);

}  // namespace synthfarm::bench
