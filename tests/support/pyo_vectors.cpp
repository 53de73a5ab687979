#include "tests/support/pyo_vectors.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <fstream>
#include <iterator>

namespace synthfarm::testing_support {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the reference vectors are little-endian float32");

const std::string kVectorDir = std::string(SYNTHFARM_TEST_DATA_DIR) + "/pyo-vectors/";

}  // namespace

nlohmann::json load_pyo_manifest(const std::string& name) {
  std::ifstream file(kVectorDir + name + ".json");
  EXPECT_TRUE(file) << "cannot open " << kVectorDir << name << ".json";
  return nlohmann::json::parse(file);
}

std::vector<float> load_pyo_samples(const std::string& name) {
  std::ifstream file(kVectorDir + name + ".f32", std::ios::binary);
  EXPECT_TRUE(file) << "cannot open " << kVectorDir << name << ".f32";
  const std::string bytes{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  std::vector<float> samples(bytes.size() / sizeof(float));
  std::memcpy(samples.data(), bytes.data(), samples.size() * sizeof(float));
  return samples;
}

PyoVector load_pyo_vector(const std::string& name) {
  PyoVector vector;
  vector.manifest = load_pyo_manifest(name);
  vector.samples = load_pyo_samples(name);
  const nlohmann::json& manifest = vector.manifest;
  vector.channels = manifest.at("nchnls").get<std::uint32_t>();
  vector.frames = manifest.at("nframes").get<std::size_t>();
  vector.sample_rate_hz = manifest.at("sr").get<double>();
  vector.frequencies_hz = manifest.at("freqs").get<std::vector<double>>();
  vector.feedback = manifest.at("feedback").get<double>();
  vector.mul = manifest.at("mul").get<double>();
  EXPECT_EQ(vector.samples.size(), vector.frames * vector.channels) << name;
  EXPECT_EQ(manifest.at("add").get<double>(), 0.0) << name;
  EXPECT_EQ(manifest.at("out_chnl").get<int>(), 0) << name;
  EXPECT_EQ(manifest.at("out_inc").get<int>(), 1) << name;
  return vector;
}

float apply_server_fade_in(std::vector<float>& interleaved, std::uint32_t channels,
                           double sample_rate_hz) {
  const int fade_frames = static_cast<int>(0.005 * sample_rate_hz);
  const float step = static_cast<float>(1.0 / fade_frames);
  float gain = 0.0f;
  int count = 0;
  for (std::size_t frame = 0; frame < interleaved.size() / channels; ++frame) {
    if (count < fade_frames) {
      gain = gain + step;
      ++count;
    }
    for (std::uint32_t c = 0; c < channels; ++c) {
      float& sample = interleaved[frame * channels + c];
      sample = sample * gain;
    }
  }
  return gain;
}

}  // namespace synthfarm::testing_support
