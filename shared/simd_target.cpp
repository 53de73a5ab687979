#include "shared/simd_target.h"

#include <hwy/highway.h>
#include <hwy/targets.h>

namespace synthfarm {
namespace {

// Best first. HWY_TARGETS is what this build compiled; targets Highway can build but this list
// does not name are not compiled (see worker/sineloop_kernels.cpp).
constexpr SimdTarget kKnownTargets[] = {
    {HWY_AVX3, "avx512", "AVX-512 (F, BW, DQ, VL): 16 float lanes"},
    {HWY_AVX2, "avx2", "AVX2 with FMA: 8 float lanes"},
    {HWY_SSE4, "sse4", "SSE4.2: 4 float lanes"},
    {HWY_SSSE3, "ssse3", "SSSE3: 4 float lanes"},
    {HWY_EMU128, "emu128", "Highway's portable 4-lane C++ (no intrinsics; any x86-64)"},
    // GCC before 12.3 miscompiles emu128, so Highway falls back to one lane there.
    {HWY_SCALAR, "scalar", "one lane, no SIMD (any x86-64)"},
};

}  // namespace

std::vector<SimdTarget> compiled_simd_targets() {
  std::vector<SimdTarget> targets;
  for (const SimdTarget& target : kKnownTargets) {
    if ((HWY_TARGETS & target.highway_target) != 0) targets.push_back(target);
  }
  return targets;
}

std::vector<SimdTarget> usable_simd_targets() {
  const std::int64_t supported = hwy::SupportedTargets();
  std::vector<SimdTarget> targets;
  for (const SimdTarget& target : compiled_simd_targets()) {
    if ((supported & target.highway_target) != 0) targets.push_back(target);
  }
  return targets;
}

std::optional<SimdTarget> choose_simd_target(std::string_view request, std::string& error) {
  const std::vector<SimdTarget> usable = usable_simd_targets();
  if (request.empty() || request == "auto") return usable.front();
  for (const SimdTarget& target : usable) {
    if (target.name == request) return target;
  }
  for (const SimdTarget& target : compiled_simd_targets()) {
    if (target.name == request) {
      error = "this CPU cannot run '" + std::string(request) +
              "'; it can run: " + simd_target_names(usable);
      return std::nullopt;
    }
  }
  error = "unknown SIMD target '" + std::string(request) +
          "'; choose auto or one of: " + simd_target_names(usable);
  return std::nullopt;
}

std::optional<SimdTarget> simd_target_from_highway(std::int64_t highway_target) {
  for (const SimdTarget& target : compiled_simd_targets()) {
    if (target.highway_target == highway_target) return target;
  }
  return std::nullopt;
}

std::string simd_target_names(const std::vector<SimdTarget>& targets) {
  std::string names;
  for (const SimdTarget& target : targets) {
    if (!names.empty()) names += ", ";
    names += target.name;
  }
  return names;
}

}  // namespace synthfarm
