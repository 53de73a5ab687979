#pragma once
// pyo's reference vectors (tests/data/pyo-vectors, generated with pyo 1.0.4, see
// data/pyo-vectors/README.md) and pyo's server fade-in, shared by the tests that compare a kernel
// with them.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace synthfarm::testing_support {

// The vector's JSON manifest (frequencies, feedback, mul, channels, ...). Fails the current
// test if the file cannot be opened.
nlohmann::json load_pyo_manifest(const std::string& name);

// The vector's samples: little-endian float32, interleaved frame-major.
std::vector<float> load_pyo_samples(const std::string& name);

// One reference vector with the parameters the kernels need from its manifest. Checks (as test
// failures) that the vector is what a SineLoop bank can reproduce: add 0, pyo's default
// .out() layout, and as many samples as the manifest says.
struct PyoVector {
  nlohmann::json manifest;
  std::uint32_t channels = 0;
  std::size_t frames = 0;
  double sample_rate_hz = 0.0;
  std::vector<double> frequencies_hz;
  double feedback = 0.0;
  double mul = 0.0;
  std::vector<float> samples;  // interleaved, with pyo's fade-in
};
PyoVector load_pyo_vector(const std::string& name);

// pyo's server fade-in (SINELOOP.md §8), applied in place to interleaved frames: the gain starts
// at 0 and adds float32(1/T) once per frame for the first T = int(0.005 * sr) frames (so frame 0
// is already scaled by 1/T), then stays at the float32 sum, 0.9999992, never 1.
// Returns the final gain.
float apply_server_fade_in(std::vector<float>& interleaved, std::uint32_t channels,
                           double sample_rate_hz);

}  // namespace synthfarm::testing_support
