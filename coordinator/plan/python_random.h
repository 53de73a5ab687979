#pragma once
// The seeded frequency generator: Python's random.Random(seed), reproduced exactly.
//
// Why Python's: it is a documented, portable generator (MT19937 with Python's
// init_by_array seeding and 53-bit doubles), and it is what pyo users already draw their
// frequencies with. `--seed 500 --workers 1 --sines 500` therefore plays the same oscillators
// as `random.Random(500).uniform(400, 800)` drawn 500 times in a pyo script.

#include <cstdint>
#include <random>

namespace synthfarm {

class PythonRandom {
 public:
  // As random.Random(seed) for a non-negative integer seed.
  explicit PythonRandom(std::uint64_t seed);

  // As random.random(): a double in [0, 1) with 53 random bits.
  double random();

  // As random.uniform(a, b): a + (b - a) * random().
  double uniform(double a, double b) { return a + (b - a) * random(); }

 private:
  std::mt19937 engine_;  // the standard's MT19937 is the same generator Python uses
};

}  // namespace synthfarm
