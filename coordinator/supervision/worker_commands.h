#pragma once
// Carries out the FIFO's worker commands (`set`, `reseed`) in the shared segment.
//
// Thread: the coordinator's control thread. None of these waits for a worker: each stores
// into the worker's slot or its part of the staging table, and the worker takes the change at
// its next block boundary (worker/parameter_changes.h): feedback glides over ~10 ms, mul ramps
// linearly over 10 ms, new frequencies continue each oscillator's phase. A stopped worker takes
// them when it plays again; a restarted one before its first block.

#include <cstdint>
#include <optional>
#include <span>

#include "coordinator/control/control_command.h"
#include "shared/segment.h"

namespace synthfarm {

// `set <worker> feedback|mul <value>`. `value` as the parser accepts it (control_command.h);
// the kernels clip feedback to [0, 1] regardless. No allocation, no syscall.
void set_worker_parameter(Segment& segment, std::uint32_t worker, WorkerParameter parameter,
                          float value) noexcept;

// Publishes new frequencies for `worker`, one per oscillator of its group, in order.
// Throws std::invalid_argument when the count is not the group's (a programming error).
void publish_worker_frequencies(Segment& segment, std::uint32_t worker,
                                std::span<const double> frequencies_hz);

// `reseed <worker|all> <seed>`: draws the whole plan (the segment's oscillator total) as
// `--seed seed` with this frequency range would, draw_frequencies_hz(seed, total, min, max),
// and publishes to each chosen worker (nullopt: all) its own contiguous slice of it. So
// `reseed all S` plays exactly what `--seed S` plays, and reseeding one worker gives it the
// frequencies it would have under `--seed S`. Allocates the plan (8 bytes per oscillator).
void reseed_workers(Segment& segment, std::optional<std::uint32_t> worker, std::uint64_t seed,
                    double freq_min_hz, double freq_max_hz);

}  // namespace synthfarm
