// PythonRandom (coordinator/python_random.h) and draw_frequencies_hz: the same numbers as
// CPython's random.Random(seed).
//
// The expected values were computed with Debian's /usr/bin/python3 (CPython 3.11.2), e.g.
//   /usr/bin/python3 -c "import random; r = random.Random(2**40 + 5); print(repr(r.random()))"
// and pasted here as repr() literals, which read back as the same doubles.

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "coordinator/plan/frequency_plan.h"
#include "coordinator/plan/python_random.h"

namespace synthfarm {
namespace {

const std::string kVectorDir = std::string(SYNTHFARM_TEST_DATA_DIR) + "/pyo-vectors/";

std::vector<double> manifest_frequencies(const std::string& name) {
  std::ifstream file(kVectorDir + name + ".json");
  EXPECT_TRUE(file) << "cannot open " << kVectorDir << name << ".json";
  return nlohmann::json::parse(file).at("freqs").get<std::vector<double>>();
}

struct KnownDraws {
  std::uint64_t seed;
  double first;
  double second;
};

// random.Random(seed).random(), twice.
const KnownDraws kKnownDraws[] = {
    {0, 0.8444218515250481, 0.7579544029403025},
    {1, 0.13436424411240122, 0.8474337369372327},
    {4294967295u, 0.6353574441341173, 0.20319993954407756},             // 2**32 - 1: one word
    {4294967296u, 0.11299430095636409, 0.41782886486292836},            // 2**32: two words
    {1099511627781u, 0.5043802970418443, 0.2686044399723282},           // 2**40 + 5
    {18446744073709551615u, 0.021825695401270107, 0.3380953268613758},  // 2**64 - 1
};

TEST(PythonRandom, FirstDrawsMatchCPythonForOneAndTwoWordSeeds) {
  for (const KnownDraws& known : kKnownDraws) {
    PythonRandom random(known.seed);
    EXPECT_EQ(random.random(), known.first) << "seed " << known.seed;
    EXPECT_EQ(random.random(), known.second) << "seed " << known.seed;
  }
}

TEST(PythonRandom, StaysInStepWithCPythonAcrossStateRegenerations) {
  // Draw 1001 uses words 2000 and 2001: three regenerations of the 624-word state later.
  PythonRandom random(0);
  for (int i = 0; i < 1000; ++i) random.random();
  EXPECT_EQ(random.random(), 0.9466893945947962);
}

TEST(PythonRandom, UniformIsAPlusBMinusATimesRandom) {
  PythonRandom random(500);
  EXPECT_EQ(random.uniform(400, 800), 718.9350350546961);
  EXPECT_EQ(random.uniform(400, 800), 779.7870174846603);
  EXPECT_EQ(random.uniform(400, 800), 631.3194259063278);
}

TEST(DrawFrequenciesHz, Seed500GivesThe500FrequenciesOfPyosGroupVector) {
  // The manifest: "python3 random.Random(500).uniform(400, 800), 500 draws in order".
  const std::vector<double> expected = manifest_frequencies("group500_seed");
  ASSERT_EQ(expected.size(), 500u);
  EXPECT_EQ(draw_frequencies_hz(500, 500, 400, 800), expected);
}

TEST(DrawFrequenciesHz, Seed8GivesThe8FrequenciesOfPyosStereoVector) {
  const std::vector<double> expected = manifest_frequencies("stereo8_fb0.1");
  ASSERT_EQ(expected.size(), 8u);
  EXPECT_EQ(draw_frequencies_hz(8, 8, 400, 800), expected);
}

TEST(DrawFrequenciesHz, ShorterDrawsAreAPrefixOfLongerOnes) {
  const std::vector<double> long_draw = draw_frequencies_hz(42, 100, 400, 800);
  const std::vector<double> short_draw = draw_frequencies_hz(42, 10, 400, 800);
  EXPECT_EQ(short_draw, std::vector<double>(long_draw.begin(), long_draw.begin() + 10));
  EXPECT_TRUE(draw_frequencies_hz(42, 0, 400, 800).empty());
}

}  // namespace
}  // namespace synthfarm
