// The CPU detection of shared/simd_target.cpp (GCC's builtins, so that no synthfarm process loads
// libhwy.so) against Highway's own: this test alone links libhwy to ask it.
#include "shared/simd_target.h"

#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <cstdint>
#include <string>

namespace synthfarm {
namespace {

std::string names_of(std::int64_t bits) {
  std::string names;
  for (const SimdTarget& target : compiled_simd_targets()) {
    if ((bits & target.highway_target) == 0) continue;
    if (!names.empty()) names += ", ";
    names += target.name;
  }
  return names;
}

// The compiled targets' bits, and those of them cpu_runs_target accepts.
std::int64_t compiled_bits() {
  std::int64_t bits = 0;
  for (const SimdTarget& target : compiled_simd_targets()) bits |= target.highway_target;
  return bits;
}

std::int64_t detected_bits() {
  std::int64_t bits = 0;
  for (const SimdTarget& target : compiled_simd_targets()) {
    if (cpu_runs_target(target.highway_target)) bits |= target.highway_target;
  }
  return bits;
}

TEST(SimdTarget, DetectsOnThisCpuExactlyTheCompiledTargetsHighwayDetects) {
  const std::int64_t highway = hwy::SupportedTargets() & compiled_bits();
  const std::int64_t ours = detected_bits();
  EXPECT_EQ(ours, highway) << "ours: " << names_of(ours) << "; Highway's: " << names_of(highway);
}

TEST(SimdTarget, UsableTargetsAreTheDetectedOnesBestFirst) {
  std::int64_t usable = 0;
  std::int64_t previous = 0;
  for (const SimdTarget& target : usable_simd_targets()) {
    usable |= target.highway_target;
    // Highway's bits grow as the targets get plainer (AVX3 < AVX2 < ... < SCALAR): best first
    // means increasing bits.
    EXPECT_GT(target.highway_target, previous) << target.name;
    previous = target.highway_target;
  }
  EXPECT_EQ(usable, detected_bits());
}

TEST(SimdTarget, AlwaysRunsThePlainTargetsAndNeverAnUnknownBit) {
  EXPECT_TRUE(cpu_runs_target(HWY_SCALAR));
  EXPECT_TRUE(cpu_runs_target(HWY_EMU128));
  EXPECT_FALSE(cpu_runs_target(0));
  EXPECT_FALSE(cpu_runs_target(HWY_AVX3 | HWY_AVX2));  // one bit at a time, as in the header
}

}  // namespace
}  // namespace synthfarm
