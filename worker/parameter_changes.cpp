#include "worker/parameter_changes.h"

#include <bit>

namespace synthfarm {

ParameterChanges::ParameterChanges(const Segment& segment, std::uint32_t worker)
    : segment_(segment),
      worker_(worker),
      // Relaxed: single values with no data behind them (segment_layout.h, WorkerSlot).
      feedback_(segment.slot(worker).feedback.load(std::memory_order_relaxed)),
      mul_(segment.slot(worker).mul.load(std::memory_order_relaxed)),
      scratch_(segment.slot(worker).oscillator_count) {}

bool ParameterChanges::apply_at_block_boundary(OscillatorBank& bank) noexcept {
  const WorkerSlot& slot = segment_.slot(worker_);
  // Relaxed: pairs with set_worker_parameter's relaxed store; a change is taken at the first
  // block boundary that sees it, and no other data depends on it.
  const float feedback = slot.feedback.load(std::memory_order_relaxed);
  const float mul = slot.mul.load(std::memory_order_relaxed);
  // Compared as bits: a NaN would otherwise look new at every block and restart the glide.
  if (std::bit_cast<std::uint32_t>(feedback) != std::bit_cast<std::uint32_t>(feedback_)) {
    bank.glide_feedback_to(feedback_ = feedback);
  }
  if (std::bit_cast<std::uint32_t>(mul) != std::bit_cast<std::uint32_t>(mul_)) {
    bank.ramp_mul_to(mul_ = mul);
  }
  if (!segment_.take_published_frequencies(worker_, taken_generation_, scratch_)) return false;
  return bank.set_frequencies(scratch_);
}

}  // namespace synthfarm
