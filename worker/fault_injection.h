#pragma once
// TEST ONLY: a fault switch that makes a worker write bad samples into its ring, so that the
// tests can show that the coordinator's master stage keeps NaN and Inf out of the output, limits
// huge values on a device, and counts both. It is not a user feature and is documented nowhere
// else; a worker that finds it set says so on stderr at start-up.
//
//   SYNTHFARM_TEST_FAULT=KIND[:WORKER]
//     KIND    nan | inf | huge (1e30) | mixed (NaN, +Inf, -Inf, +1e30, -1e30 in turn)
//     WORKER  the index of the one worker that injects; without it, every worker does
//
// With the switch on, sample 96, 193, 290, ... of the worker's interleaved output (every 97th,
// counted from its first rendered sample across blocks) is overwritten after rendering and
// before the ring write. 97 is prime, so the faults walk over every channel and every offset in
// a block. The variable is read once, before the render loop; the loop only does the overwrite.

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

namespace synthfarm {

inline constexpr const char* kTestFaultEnvironmentVariable = "SYNTHFARM_TEST_FAULT";

enum class FaultKind : std::uint32_t { kNone, kNan, kInf, kHuge, kMixed };

class FaultInjector {
 public:
  static constexpr std::uint32_t kStrideSamples = 97;  // one bad sample in every 97
  static constexpr float kHugeValue = 1e30f;           // finite, far beyond ±1

  FaultInjector() noexcept = default;  // off: apply() changes nothing
  explicit FaultInjector(FaultKind kind) noexcept : kind_(kind) {}

  FaultKind kind() const noexcept { return kind_; }
  bool enabled() const noexcept { return kind_ != FaultKind::kNone; }

  // Thread: the worker's render loop. RT-safe: no allocation, lock, syscall or I/O; touches
  // only the samples it overwrites. Overwrites the bad samples that fall within the next
  // `samples` interleaved samples of the worker's output, which `interleaved` holds.
  // Inline so that the switched-off case costs the render loop one predictable branch.
  void apply(float* interleaved, std::size_t samples) noexcept {
    if (enabled()) overwrite(interleaved, samples);
  }

 private:
  void overwrite(float* interleaved, std::size_t samples) noexcept;
  float next_value() noexcept;

  FaultKind kind_ = FaultKind::kNone;
  std::uint64_t next_sample_ = kStrideSamples - 1;  // offset of the next bad sample
  std::uint32_t mixed_turn_ = 0;                    // which value `mixed` writes next
};

// Pure: the fault for worker `worker_index` described by the variable's value `text` (nullptr
// when it is unset: no fault). The worker calls it once at start-up with getenv's answer. A value
// naming another worker gives a disabled injector. Returns a message for stderr when the value is
// not understood.
std::variant<FaultInjector, std::string> parse_test_fault(const char* text,
                                                          std::uint32_t worker_index);

// Pure: what an enabled injector writes, for the worker's start-up line on stderr.
std::string describe_test_fault(const FaultInjector& injector);

}  // namespace synthfarm
