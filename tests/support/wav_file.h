#pragma once
// Reading the WAV files synthfarm renders, for the integration tests (libsndfile).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace synthfarm::testing {

struct Wav {
  int format = 0;  // libsndfile's SF_FORMAT_* bits (container | sample type)
  std::uint32_t channels = 0;
  std::uint32_t sample_rate_hz = 0;
  std::uint64_t frames = 0;
  std::vector<float> samples;  // interleaved
  float at(std::uint64_t frame, std::uint32_t channel) const {
    return samples[frame * channels + channel];
  }
};

// The whole file as float samples, or nullopt with `error` saying why.
std::optional<Wav> read_wav(const std::string& path, std::string& error);

}  // namespace synthfarm::testing
