#include "tests/support/wav_file.h"

#include <sndfile.h>

namespace synthfarm::testing {

std::optional<Wav> read_wav(const std::string& path, std::string& error) {
  SF_INFO info{};
  SNDFILE* file = sf_open(path.c_str(), SFM_READ, &info);
  if (!file) {
    error = "libsndfile cannot open " + path + ": " + sf_strerror(nullptr);
    return std::nullopt;
  }
  Wav wav;
  wav.format = info.format;
  wav.channels = static_cast<std::uint32_t>(info.channels);
  wav.sample_rate_hz = static_cast<std::uint32_t>(info.samplerate);
  wav.frames = static_cast<std::uint64_t>(info.frames);
  wav.samples.resize(static_cast<std::size_t>(info.frames * info.channels));
  const sf_count_t read = sf_readf_float(file, wav.samples.data(), info.frames);
  sf_close(file);
  if (read != info.frames) {
    error = "short read from " + path;
    return std::nullopt;
  }
  return wav;
}

}  // namespace synthfarm::testing
