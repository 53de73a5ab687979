#include "shared/simd_target.h"

// Highway's target bits and HWY_TARGETS only: nothing here calls into libhwy.so (see
// cpu_runs_target).
#include <cpuid.h>
#include <hwy/detect_targets.h>

namespace synthfarm {
namespace {

// One CPUID feature bit. For the two features Highway's AVX2 target needs that clang 14's
// __builtin_cpu_supports does not name (LZCNT, F16C): the fuzzing build compiles this file with
// clang. Neither has register state of its own, so no OS check is needed beyond AVX's.
bool cpuid_bit(unsigned leaf, int register_index, unsigned bit) {
  unsigned registers[4] = {};  // eax, ebx, ecx, edx
  if (__get_cpuid(leaf, &registers[0], &registers[1], &registers[2], &registers[3]) == 0) {
    return false;  // the leaf does not exist
  }
  return (registers[register_index] >> bit) & 1u;
}
constexpr int kEcx = 2;

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

// Why not hwy::SupportedTargets(): it lives in libhwy.so, and Debian's libhwy.so.1.0.3 runs a
// static initializer (hwy::platform::TimerResolution) in every process that loads it: about
// 4 ms of CPU measured in the coordinator and again in each worker, some 15 % of a short
// offline render's CPU. GCC's builtins read CPUID once per process (libgcc) and, like Highway,
// drop AVX/AVX-512 when the OS does not save their registers (XSAVE/XCR0). Each target asks for
// the CPU features Highway 1.0.3 requires of it (its hwy/targets.cc), so that its code never
// meets an instruction the CPU lacks; tests/unit/simd_target_test.cpp compares the two.
bool cpu_runs_target(std::int64_t highway_target) {
  __builtin_cpu_init();  // idempotent; needed only before libgcc's own constructor ran
  const bool ssse3 = __builtin_cpu_supports("sse") && __builtin_cpu_supports("sse2") &&
                     __builtin_cpu_supports("sse3") && __builtin_cpu_supports("ssse3");
  const bool sse4 = ssse3 && __builtin_cpu_supports("sse4.1") && __builtin_cpu_supports("sse4.2") &&
                    __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("aes");
  const bool avx2 = sse4 && __builtin_cpu_supports("avx") && __builtin_cpu_supports("avx2") &&
                    cpuid_bit(0x80000001u, kEcx, 5) /* LZCNT */ && __builtin_cpu_supports("bmi") &&
                    __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("fma") &&
                    cpuid_bit(1u, kEcx, 29) /* F16C */;
  const bool avx3 = avx2 && __builtin_cpu_supports("avx512f") &&
                    __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                    __builtin_cpu_supports("avx512bw");
  switch (highway_target) {
    case HWY_AVX3:
      return avx3;
    case HWY_AVX2:
      return avx2;
    case HWY_SSE4:
      return sse4;
    case HWY_SSSE3:
      return ssse3;
    case HWY_EMU128:
    case HWY_SCALAR:
      return true;  // plain C++
    default:
      return false;  // a target this file does not know: never chosen
  }
}

std::vector<SimdTarget> compiled_simd_targets() {
  std::vector<SimdTarget> targets;
  for (const SimdTarget& target : kKnownTargets) {
    if ((HWY_TARGETS & target.highway_target) != 0) targets.push_back(target);
  }
  return targets;
}

std::vector<SimdTarget> usable_simd_targets() {
  std::vector<SimdTarget> targets;
  for (const SimdTarget& target : compiled_simd_targets()) {
    if (cpu_runs_target(target.highway_target)) targets.push_back(target);
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
