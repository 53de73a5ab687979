#include "coordinator/mix/ring_plan.h"

#include <algorithm>

namespace synthfarm {
namespace {

std::uint32_t next_power_of_two(std::uint32_t value) {
  std::uint32_t power = 1;
  while (power < value) power <<= 1;
  return power;
}

}  // namespace

RingPlan plan_rings(std::uint32_t block_frames, bool offline) {
  const std::uint32_t ring =
      next_power_of_two(std::max(offline ? 32768u : 8192u, 4 * block_frames));
  return {ring, offline ? ring : 2 * block_frames};
}

}  // namespace synthfarm
