#pragma once
// How late this machine wakes a thread whose CPU was idle: the floor under every audio
// deadline, measured before a capacity search so that its table can be read for what it is.
//
// Why: a worker sleeps between blocks and is woken when its ring needs filling, and the null
// clock sleeps a period between callbacks. When the machine takes milliseconds to bring an idle
// CPU back (a virtual machine whose idle virtual CPUs halt in the hypervisor, without a cpuidle
// driver, wakes them 10-90 ms late a few times a minute), probes fail on wake-ups, not on
// rendering, and the capacity a search finds is the machine's, not synthfarm's. Like
// cyclictest: one timer thread per CPU, each pinned and sleeping to absolute deadlines, with
// nothing else to run in between.
//
// Thread: the bench's main thread; starts and joins one probe thread per CPU. Allocates.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace synthfarm::bench {

// Longest --wake-probe: its samples are kept (8 bytes per wake-up, per CPU), 1 MB a CPU here.
inline constexpr double kMaxWakeProbeSeconds = 120.0;

struct IdleWakeLatency {
  std::uint32_t cpus = 0;             // CPUs probed, one thread each
  std::uint32_t cpus_not_probed = 0;  // allowed, but their thread could not start or be pinned
  double seconds = 0.0;               // how long each probed
  double interval_us = 0.0;           // between two deadlines
  bool realtime = false;              // the probes ran at SCHED_FIFO 1 (else SCHED_OTHER)
  // Wake-ups, all CPUs together. A wake-up later than a whole interval has passed the next
  // deadlines too: those are `missed`, not wake-ups, so that one long stall counts once.
  std::uint64_t wakes = 0;
  std::uint64_t missed = 0;
  double median_us = 0.0;  // lateness of a wake-up past its deadline
  double p99_us = 0.0;
  double max_us = 0.0;
  std::vector<double> sorted_lateness_us;  // every wake-up's, ascending
};

// How many of the `remaining` deadlines after the one just woken for had passed too, when the
// wake-up came `late_ns` after it with deadlines `interval_ns` apart: they are missed, not
// wake-ups, and the next sleep is for the first deadline still ahead.
std::uint64_t deadlines_passed(std::int64_t late_ns, std::int64_t interval_ns,
                               std::uint64_t remaining);

// Takes `lateness_us` into `into.sorted_lateness_us`, sorted, and sets `wakes`, the median,
// the 99th percentile (nearest rank) and the maximum; all zero when it is empty.
void summarize_lateness(std::vector<double> lateness_us, IdleWakeLatency& into);

// How many wake-ups were later than `threshold_us`.
std::uint64_t wakes_later_than(const IdleWakeLatency& latency, double threshold_us);

// Probes every CPU this process may run on (whatever a capacity search's --cpus) for `seconds`
// (0.05 to kMaxWakeProbeSeconds), deadlines `interval_us` apart (100 to 100,000). Returns
// nullopt, with the reason in `error`, for arguments out of range or when no probe thread could
// be started and pinned.
std::optional<IdleWakeLatency> measure_idle_wake_latency(double seconds, double interval_us,
                                                         std::string& error);

// One line for the report's head: the figures, and when some wake-ups were later than
// `slack_us` (the most a probe survives; 0: no judgement), how many, and what that means for
// the capacity. `slack_text` says where the slack comes from.
std::string describe_idle_wake_latency(const IdleWakeLatency& latency, double slack_us,
                                       const std::string& slack_text);

}  // namespace synthfarm::bench
