#include "coordinator/plan/oscillator_plan.h"

#include <random>

#include "coordinator/plan/frequency_plan.h"

namespace synthfarm {

std::optional<OscillatorPlan> plan_oscillators(const Options& options, std::string& error) {
  OscillatorPlan plan;
  if (!options.freqs_file.empty()) {
    auto frequencies = read_frequency_file(options.freqs_file, error);
    if (!frequencies) return std::nullopt;
    if (frequencies->size() < options.workers) {
      error = "--freqs-file: '" + options.freqs_file + "' holds " +
              std::to_string(frequencies->size()) + " frequencies, fewer than the " +
              std::to_string(options.workers) + " workers; lower --workers";
      return std::nullopt;
    }
    plan.frequencies_hz = std::move(*frequencies);
    return plan;
  }
  plan.seed = options.seed ? *options.seed : std::random_device{}();
  plan.frequencies_hz =
      draw_frequencies_hz(*plan.seed, std::uint64_t{options.workers} * options.sines_per_worker,
                          options.freq_min_hz, options.freq_max_hz);
  return plan;
}

}  // namespace synthfarm
