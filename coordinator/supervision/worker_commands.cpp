#include "coordinator/supervision/worker_commands.h"

#include <stdexcept>
#include <string>
#include <vector>

#include "coordinator/plan/frequency_plan.h"

namespace synthfarm {

void set_worker_parameter(Segment& segment, std::uint32_t worker, WorkerParameter parameter,
                          float value) noexcept {
  WorkerSlot& slot = segment.slot(worker);
  // Relaxed: pairs with the worker's relaxed loads in ParameterChanges; a single value with
  // no data behind it, taken at whichever block boundary first sees it.
  (parameter == WorkerParameter::kFeedback ? slot.feedback : slot.mul)
      .store(value, std::memory_order_relaxed);
}

void publish_worker_frequencies(Segment& segment, std::uint32_t worker,
                                std::span<const double> frequencies_hz) {
  if (!segment.publish_frequencies(worker, frequencies_hz)) {
    throw std::invalid_argument(
        "publish_worker_frequencies: " + std::to_string(frequencies_hz.size()) +
        " frequencies for worker " + std::to_string(worker) + ", which plays " +
        std::to_string(segment.slot(worker).oscillator_count));
  }
}

void reseed_workers(Segment& segment, std::optional<std::uint32_t> worker, std::uint64_t seed,
                    double freq_min_hz, double freq_max_hz) {
  const std::vector<double> plan =
      draw_frequencies_hz(seed, segment.header().oscillator_total, freq_min_hz, freq_max_hz);
  for (std::uint32_t w = 0; w < segment.header().worker_count; ++w) {
    if (worker && *worker != w) continue;
    const WorkerSlot& slot = segment.slot(w);
    publish_worker_frequencies(
        segment, w, std::span(plan).subspan(slot.first_oscillator, slot.oscillator_count));
  }
}

}  // namespace synthfarm
