#pragma once
// What the recorder's tests (tests/unit/recorder_test, tests/process/recorder_process_test)
// feed a recording with and check it by: streams whose samples say where they come from, and
// the WAV header read byte by byte. libsndfile forgives a header whose sizes disagree with the
// file, so reading the frames back through it (wav_file.h) cannot tell whether the header was
// kept up to date; HeaderHolds can. Header-only; tests/unit/recording_checks_test checks it.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "coordinator/mix/mix_tap.h"
#include "tests/support/wav_file.h"

namespace synthfarm::testing::recording {

inline constexpr std::uint32_t kRateHz = 48000;
inline constexpr std::uint32_t kChannels = 2;
inline constexpr std::uint32_t kBlockFrames = 256;

// Reproducible noise in [-1, 1): every bit pattern of the mantissa gets exercised, so a file
// that converted, rounded or reordered samples differs.
inline std::vector<float> noise(std::uint64_t frames, std::uint32_t seed) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> samples(frames * kChannels);
  for (float& sample : samples) sample = uniform(generator);
  return samples;
}

// Frames that say where they come from: frame i is (i, -i), exact in float up to 2^24.
inline std::vector<float> numbered(std::uint64_t first, std::uint64_t frames) {
  std::vector<float> samples;
  samples.reserve(frames * kChannels);
  for (std::uint64_t i = first; i < first + frames; ++i) {
    samples.push_back(static_cast<float>(i));
    samples.push_back(-static_cast<float>(i));
  }
  return samples;
}

// Hands `samples` to the tap as an output would, `block_frames` at a time (the last block may
// be shorter).
inline void push_in_blocks(MixTap& tap, const std::vector<float>& samples,
                           std::uint32_t block_frames) {
  const std::uint64_t frames = samples.size() / kChannels;
  for (std::uint64_t done = 0; done < frames; done += block_frames) {
    const auto block =
        static_cast<std::uint32_t>(std::min<std::uint64_t>(block_frames, frames - done));
    tap.on_mixed(samples.data() + done * kChannels, block);
  }
}

// Sleeps in steps of a millisecond until `done()` or `timeout`; returns done().
inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// The file as libsndfile reads it; fails the test if it cannot.
inline Wav read_or_fail(const std::string& path) {
  std::string error;
  std::optional<Wav> wav = read_wav(path, error);
  EXPECT_TRUE(wav) << error;
  return wav ? *wav : Wav{};
}

// --- The header, byte by byte -----------------------------------------------------------------

struct WavHeader {
  std::uint64_t file_bytes = 0;
  std::uint32_t riff_bytes = 0;  // the RIFF chunk's size field
  std::uint32_t format_tag = 0;  // 3: IEEE float
  std::uint32_t channels = 0;
  std::uint32_t sample_rate_hz = 0;
  std::uint32_t bits_per_sample = 0;
  std::uint64_t data_offset = 0;
  std::uint32_t data_bytes = 0;  // the data chunk's size field
};

inline std::uint32_t little_endian(const std::string& bytes, std::size_t at, std::size_t width) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    value |= std::uint32_t{static_cast<unsigned char>(bytes[at + i])} << (8 * i);
  }
  return value;
}

inline std::optional<WavHeader> read_header(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 12 || bytes.compare(0, 4, "RIFF") != 0 || bytes.compare(8, 4, "WAVE") != 0) {
    error = path + " does not start with RIFF....WAVE";
    return std::nullopt;
  }
  WavHeader header;
  header.file_bytes = bytes.size();
  header.riff_bytes = little_endian(bytes, 4, 4);
  bool found_format = false;
  for (std::size_t at = 12; at + 8 <= bytes.size();) {
    const std::string id = bytes.substr(at, 4);
    const std::uint32_t size = little_endian(bytes, at + 4, 4);
    if (id == "fmt " && at + 8 + 16 <= bytes.size()) {
      header.format_tag = little_endian(bytes, at + 8, 2);
      header.channels = little_endian(bytes, at + 10, 2);
      header.sample_rate_hz = little_endian(bytes, at + 12, 4);
      header.bits_per_sample = little_endian(bytes, at + 22, 2);
      found_format = true;
    } else if (id == "data") {
      header.data_offset = at + 8;
      header.data_bytes = size;
      if (!found_format) error = path + ": data chunk before fmt chunk";
      return found_format ? std::optional(header) : std::nullopt;
    }
    at += 8 + size + (size & 1);  // chunks are padded to an even size
  }
  error = path + " has no data chunk";
  return std::nullopt;
}

// The header describes `frames` float frames of kChannels at kRateHz, and its sizes agree with
// the file: a reader that trusts the header (most do) gets those frames and nothing else.
// Exactly: the file ends where the data chunk ends. kMayTrail: the file may go on (a process
// killed between a data write and the header update it triggers).
enum class FileEnd { kExactly, kMayTrail };

inline ::testing::AssertionResult HeaderHolds(const std::string& path, std::uint64_t frames,
                                              FileEnd file_end = FileEnd::kExactly) {
  std::string error;
  const std::optional<WavHeader> header = read_header(path, error);
  if (!header) return ::testing::AssertionFailure() << error;
  const std::uint64_t data_bytes = frames * kChannels * sizeof(float);
  if (header->format_tag != 3 || header->bits_per_sample != 32 || header->channels != kChannels ||
      header->sample_rate_hz != kRateHz) {
    return ::testing::AssertionFailure()
           << "fmt says tag " << header->format_tag << ", " << header->bits_per_sample << " bits, "
           << header->channels << " channels, " << header->sample_rate_hz << " Hz";
  }
  if (header->data_bytes != data_bytes) {
    return ::testing::AssertionFailure() << "the data chunk says " << header->data_bytes
                                         << " bytes; " << frames << " frames are " << data_bytes;
  }
  const std::uint64_t data_end = header->data_offset + header->data_bytes;
  const std::uint64_t riff_end = std::uint64_t{header->riff_bytes} + 8;
  const bool agree = file_end == FileEnd::kExactly
                         ? data_end == header->file_bytes && riff_end == header->file_bytes
                         : data_end <= riff_end && riff_end <= header->file_bytes;
  if (!agree) {
    return ::testing::AssertionFailure()
           << "sizes disagree with the file's " << header->file_bytes << " bytes: RIFF "
           << header->riff_bytes << " + 8, data at " << header->data_offset << " + "
           << header->data_bytes;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace synthfarm::testing::recording
