#pragma once
// How a worker follows the coordinator's run-time changes (FIFO `set` and `reseed`): at each
// block boundary it compares its slot's feedback and mul with what it plays, and looks for a
// newly published frequency table; the oscillator bank glides, ramps or retunes from there.

#include <cstdint>
#include <vector>

#include "shared/segment.h"
#include "worker/oscillator_bank.h"

namespace synthfarm {

class ParameterChanges {
 public:
  // Thread: the worker, before its render loop. Allocates the copy of a frequency table.
  // Reads the slot's feedback and mul once: build the bank with feedback() and mul(), so that
  // a change made in between is seen as a change at the first block boundary.
  ParameterChanges(const Segment& segment, std::uint32_t worker);

  float feedback() const noexcept { return feedback_; }
  float mul() const noexcept { return mul_; }

  // Thread: the render loop, between two blocks. RT-safe: a few atomic loads and, after a
  // reseed, one copy of the worker's group into memory allocated by the constructor. Never
  // waits: a publication the coordinator is still writing is taken at a later block.
  // Returns true when new frequencies were taken.
  bool apply_at_block_boundary(OscillatorBank& bank) noexcept;

 private:
  const Segment& segment_;
  std::uint32_t worker_;
  float feedback_;
  float mul_;
  // 0: none taken yet, so a worker started after a reseed takes it before its first block.
  std::uint64_t taken_generation_ = 0;
  std::vector<double> scratch_;  // one entry per oscillator of the group
};

}  // namespace synthfarm
