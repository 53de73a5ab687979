#include "shared/linear_ramp.h"

#include <gtest/gtest.h>

namespace synthfarm {
namespace {

TEST(LinearRamp, ReachesTheTargetExactlyAtItsLastFrameAndStaysThere) {
  LinearRamp ramp(480, 1.0f);
  EXPECT_FALSE(ramp.ramping());
  ramp.restart_towards(0.3f);
  float previous = ramp.value();
  for (std::uint32_t n = 1; n <= 480; ++n) {
    const float value = ramp.next();
    EXPECT_LE(value, previous) << "frame " << n;  // monotonic, towards a lower target
    EXPECT_GE(value, 0.3f) << "frame " << n;      // never past it
    EXPECT_EQ(ramp.frames_left(), 480 - n);
    previous = value;
  }
  EXPECT_EQ(previous, 0.3f);
  EXPECT_FALSE(ramp.ramping());
  EXPECT_EQ(ramp.next(), 0.3f);
}

TEST(LinearRamp, StepsAreEqualToWithinRounding) {
  LinearRamp ramp(100, 0.0f);
  ramp.restart_towards(1.0f);
  for (std::uint32_t n = 1; n <= 100; ++n) EXPECT_NEAR(ramp.next(), n / 100.0, 1e-7) << n;
}

TEST(LinearRamp, ANewTargetMidRampStartsFromWhereItIsWithoutAStep) {
  LinearRamp ramp(10, 0.0f);
  ramp.restart_towards(1.0f);
  for (int n = 0; n < 5; ++n) ramp.next();
  const float middle = ramp.value();
  EXPECT_FLOAT_EQ(middle, 0.5f);
  ramp.restart_towards(0.0f);
  EXPECT_EQ(ramp.frames_left(), 10u) << "a full ramp from here";
  EXPECT_NEAR(ramp.next(), middle - middle / 10, 1e-7) << "one step of the new ramp, no jump";
}

TEST(LinearRamp, AJumpEndsAnyRampAtOnce) {
  LinearRamp ramp(10, 0.0f);
  ramp.restart_towards(1.0f);
  ramp.next();
  ramp.jump_to(0.25f);
  EXPECT_FALSE(ramp.ramping());
  EXPECT_EQ(ramp.value(), 0.25f);
  EXPECT_EQ(ramp.next(), 0.25f);
  EXPECT_EQ(ramp.target(), 0.25f);
}

TEST(LinearRamp, ALengthOfZeroIsOneFrame) {
  LinearRamp ramp(0, 0.0f);
  EXPECT_EQ(ramp.frames(), 1u);
  ramp.restart_towards(2.0f);
  EXPECT_EQ(ramp.next(), 2.0f);
}

}  // namespace
}  // namespace synthfarm
