// The recorder tests' oracle (tests/support/recording_checks.h): HeaderHolds accepts a float
// WAV whose header describes exactly the frames the file holds, and nothing else. The files are
// written here byte by byte, so that the oracle is not checked against what it checks.
#include "tests/support/recording_checks.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "tests/support/temp_dir.h"

namespace synthfarm {
namespace {

using namespace synthfarm::testing::recording;
using synthfarm::testing::TempDir;

void put(std::string& bytes, std::uint32_t value, int width) {
  for (int i = 0; i < width; ++i) bytes.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

struct Layout {
  std::uint64_t frames = 10;
  std::int64_t riff_size_error = 0;  // added to the RIFF size field
  std::int64_t data_size_error = 0;  // added to the data size field
  std::uint32_t format_tag = 3;      // 3: IEEE float
  std::uint32_t trailing_bytes = 0;  // after the data chunk
  bool data_before_format = false;
};

// A canonical 44-byte-header WAV of kChannels float32 at kRateHz, then `frames` frames.
std::string wav_file(const TempDir& directory, const Layout& layout) {
  const std::uint32_t data_bytes =
      static_cast<std::uint32_t>(layout.frames * kChannels * sizeof(float));
  std::string format;
  format += "fmt ";
  put(format, 16, 4);
  put(format, layout.format_tag, 2);
  put(format, kChannels, 2);
  put(format, kRateHz, 4);
  put(format, kRateHz * kChannels * 4, 4);  // bytes per second
  put(format, kChannels * 4, 2);            // bytes per frame
  put(format, 32, 2);                       // bits per sample
  std::string data = "data";
  put(data, static_cast<std::uint32_t>(data_bytes + layout.data_size_error), 4);
  data += std::string(data_bytes, '\0');
  std::string body = "WAVE";
  body += layout.data_before_format ? data + format : format + data;
  std::string bytes = "RIFF";
  put(bytes, static_cast<std::uint32_t>(body.size() + layout.riff_size_error), 4);
  bytes += body + std::string(layout.trailing_bytes, 'x');
  const std::string path = directory.file("made.wav");
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST(HeaderHolds, AcceptsAHeaderThatDescribesExactlyTheFramesTheFileHolds) {
  TempDir directory;
  const std::string path = wav_file(directory, {});
  EXPECT_TRUE(HeaderHolds(path, 10));
  EXPECT_TRUE(HeaderHolds(path, 10, FileEnd::kMayTrail));
  EXPECT_FALSE(HeaderHolds(path, 9));
  EXPECT_FALSE(HeaderHolds(path, 11));
  EXPECT_TRUE(HeaderHolds(wav_file(directory, {.frames = 0}), 0));
}

TEST(HeaderHolds, RejectsSizeFieldsThatDisagreeWithTheFile) {
  TempDir directory;
  // The data chunk claims a frame more than it holds; the RIFF chunk claims more or less.
  EXPECT_FALSE(HeaderHolds(wav_file(directory, {.data_size_error = 8}), 11, FileEnd::kMayTrail));
  EXPECT_FALSE(HeaderHolds(wav_file(directory, {.riff_size_error = 8}), 10, FileEnd::kMayTrail));
  EXPECT_FALSE(HeaderHolds(wav_file(directory, {.riff_size_error = -8}), 10));
}

TEST(HeaderHolds, LetsTheFileGoOnPastItsHeaderOnlyWhenTold) {
  TempDir directory;
  // A process killed between a data write and the header update it triggers.
  const std::string path = wav_file(directory, {.trailing_bytes = 8});
  EXPECT_FALSE(HeaderHolds(path, 10));
  EXPECT_TRUE(HeaderHolds(path, 10, FileEnd::kMayTrail));
}

TEST(HeaderHolds, RejectsAnotherSampleFormatAndAMisplacedOrMissingChunk) {
  TempDir directory;
  EXPECT_FALSE(HeaderHolds(wav_file(directory, {.format_tag = 1}), 10));  // integer PCM
  EXPECT_FALSE(HeaderHolds(wav_file(directory, {.data_before_format = true}), 10));
  const std::string not_wav = directory.file("text.wav");
  std::ofstream(not_wav) << "not a WAV file at all";
  EXPECT_FALSE(HeaderHolds(not_wav, 0));
  EXPECT_FALSE(HeaderHolds(directory.file("missing.wav"), 0));
}

}  // namespace
}  // namespace synthfarm
