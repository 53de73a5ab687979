#include "worker/fault_injection.h"

#include <array>
#include <charconv>
#include <limits>
#include <string_view>

namespace synthfarm {
namespace {

constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// `mixed` cycles through every kind of bad value, so one run exercises both of the master
// stage's counters (non-finite and limited) and both signs.
constexpr std::array<float, 5> kMixedValues{kNan, kInf, -kInf, FaultInjector::kHugeValue,
                                            -FaultInjector::kHugeValue};

std::string usage(std::string_view text) {
  return std::string(kTestFaultEnvironmentVariable) + "='" + std::string(text) +
         "' is not understood (test only; expected nan, inf, huge or mixed, optionally followed "
         "by :WORKER, e.g. nan:1); unset it to run normally";
}

}  // namespace

void FaultInjector::overwrite(float* interleaved, std::size_t samples) noexcept {
  // Jumps from one bad sample to the next instead of testing every sample; next_sample_ is
  // relative to the start of this block, so the stride carries over block boundaries.
  while (next_sample_ < samples) {
    interleaved[next_sample_] = next_value();
    next_sample_ += kStrideSamples;
  }
  next_sample_ -= samples;
}

float FaultInjector::next_value() noexcept {
  switch (kind_) {
    case FaultKind::kNone:
      return 0.0f;
    case FaultKind::kNan:
      return kNan;
    case FaultKind::kInf:
      return kInf;
    case FaultKind::kHuge:
      return kHugeValue;
    case FaultKind::kMixed: {
      const float value = kMixedValues[mixed_turn_];
      mixed_turn_ = (mixed_turn_ + 1) % kMixedValues.size();
      return value;
    }
  }
  return 0.0f;
}

std::variant<FaultInjector, std::string> parse_test_fault(const char* text,
                                                          std::uint32_t worker_index) {
  if (text == nullptr || *text == '\0') return FaultInjector();  // unset or empty: off
  const std::string_view value(text);
  const std::size_t colon = value.find(':');
  const std::string_view kind_text = value.substr(0, colon);
  FaultKind kind;
  if (kind_text == "nan") {
    kind = FaultKind::kNan;
  } else if (kind_text == "inf") {
    kind = FaultKind::kInf;
  } else if (kind_text == "huge") {
    kind = FaultKind::kHuge;
  } else if (kind_text == "mixed") {
    kind = FaultKind::kMixed;
  } else {
    return usage(value);
  }
  if (colon == std::string_view::npos) return FaultInjector(kind);
  const std::string_view index_text = value.substr(colon + 1);
  std::uint32_t only_worker = 0;
  const auto [end, error] =
      std::from_chars(index_text.data(), index_text.data() + index_text.size(), only_worker);
  if (index_text.empty() || error != std::errc() || end != index_text.data() + index_text.size()) {
    return usage(value);
  }
  return only_worker == worker_index ? FaultInjector(kind) : FaultInjector();
}

std::string describe_test_fault(const FaultInjector& injector) {
  const char* what = "";
  switch (injector.kind()) {
    case FaultKind::kNone:
      return "no fault";
    case FaultKind::kNan:
      what = "NaN";
      break;
    case FaultKind::kInf:
      what = "+Inf";
      break;
    case FaultKind::kHuge:
      what = "1e30";
      break;
    case FaultKind::kMixed:
      what = "NaN, +Inf, -Inf, +1e30 and -1e30 in turn";
      break;
  }
  return std::string("test fault (") + kTestFaultEnvironmentVariable + "): writing " + what +
         " into every " + std::to_string(FaultInjector::kStrideSamples) + "th output sample";
}

}  // namespace synthfarm
