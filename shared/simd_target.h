#pragma once
// Which SIMD instruction set the oscillator kernels run on. One binary carries kernels for
// every x86-64 target Highway compiles (AVX-512, AVX2, SSE4, SSSE3 and a portable baseline:
// "scalar" with Debian 12's GCC 12.2, "emu128" with newer compilers);
// the best one this CPU supports is used unless the user asks for a lower one.
// Both processes use this: the coordinator to choose and report, the worker to run.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace synthfarm {

struct SimdTarget {
  std::int64_t highway_target = 0;  // one HWY_* target bit (HWY_AVX3, HWY_AVX2, ...)
  std::string_view name;            // what users type: "avx512", "avx2", "sse4", "ssse3", "scalar"
  std::string_view description;     // one line for --help and reports

  friend bool operator==(const SimdTarget& a, const SimdTarget& b) {
    return a.highway_target == b.highway_target;
  }
};

// Every target compiled into this build, best first.
std::vector<SimdTarget> compiled_simd_targets();

// Thread: any. Whether this CPU (and the OS, for the AVX registers) can run the code Highway
// compiles for this target bit: the features Highway 1.0.3 requires of it. Plain C++ targets
// always; unknown bits never.
bool cpu_runs_target(std::int64_t highway_target);

// The compiled targets this CPU can run, best first. Never empty: the portable one runs anywhere.
std::vector<SimdTarget> usable_simd_targets();

// The environment variable that, like --simd, names a target to use instead of the best.
inline constexpr const char* kSimdEnvironmentVariable = "SYNTHFARM_SIMD";

// "auto" (or empty) gives the best usable target; a name gives that target if this CPU can run
// it. Otherwise nullopt, with `error` naming the problem and the choices.
std::optional<SimdTarget> choose_simd_target(std::string_view request, std::string& error);

// The target with this Highway bit, if compiled in.
std::optional<SimdTarget> simd_target_from_highway(std::int64_t highway_target);

// "avx512, avx2, sse4, ssse3, scalar": for --help and error messages.
std::string simd_target_names(const std::vector<SimdTarget>& targets);

}  // namespace synthfarm
