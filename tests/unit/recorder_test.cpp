// The recorder behind --record: what the output plays reaches a valid WAV file, frame for
// frame, through a lock-free ring; frames it cannot take are counted, never waited for; the
// file stays valid whatever ends the process; on_mixed() allocates nothing.
//
// Files are read back twice: with libsndfile (tests/support/wav_file.h), for the frames, and
// byte by byte here, for the header itself (libsndfile forgives a header whose sizes disagree
// with the file, so it cannot tell whether the header was kept up to date).
#include "coordinator/output/recorder.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <future>
#include <iterator>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/allocation_counter.h"
#include "tests/support/child_process.h"
#include "tests/support/wav_file.h"

namespace synthfarm {
namespace {

using namespace std::chrono_literals;
using synthfarm::testing::escape;
using synthfarm::testing::TempDir;

constexpr std::uint32_t kRateHz = 48000;
constexpr std::uint32_t kChannels = 2;
constexpr std::uint32_t kBlockFrames = 256;

// Allocations made by this thread while `run` runs: the writer thread may allocate meanwhile.
template <typename Run>
std::uint64_t allocations_during(Run&& run) {
  return testing::count_allocations(std::forward<Run>(run), testing::CountedThreads::kCalling)
      .malloc_family;
}

// Reproducible noise in [-1, 1): every bit pattern of the mantissa gets exercised, so a file
// that converted, rounded or reordered samples differs.
std::vector<float> noise(std::uint64_t frames, std::uint32_t seed) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> samples(frames * kChannels);
  for (float& sample : samples) sample = uniform(generator);
  return samples;
}

// Frames that say where they come from: frame i is (i, -i), exact in float up to 2^24.
std::vector<float> numbered(std::uint64_t first, std::uint64_t frames) {
  std::vector<float> samples;
  samples.reserve(frames * kChannels);
  for (std::uint64_t i = first; i < first + frames; ++i) {
    samples.push_back(static_cast<float>(i));
    samples.push_back(-static_cast<float>(i));
  }
  return samples;
}

void push_in_blocks(Recorder& recorder, const std::vector<float>& samples,
                    std::uint32_t block_frames) {
  const std::uint64_t frames = samples.size() / kChannels;
  for (std::uint64_t done = 0; done < frames; done += block_frames) {
    const auto block =
        static_cast<std::uint32_t>(std::min<std::uint64_t>(block_frames, frames - done));
    recorder.on_mixed(samples.data() + done * kChannels, block);
  }
}

// Sleeps in steps of a millisecond until `done()` or `timeout`; returns done().
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

RecorderOptions ring_of(std::uint32_t frames, std::function<void()> before_write = {}) {
  RecorderOptions options;
  options.ring_frames = frames;
  options.before_write = std::move(before_write);
  return options;
}

RecorderOptions waking_at(std::uint32_t frames) {
  RecorderOptions options;
  options.wake_frames = frames;
  return options;
}

std::unique_ptr<Recorder> open_or_fail(const std::string& path, RecorderOptions options = {}) {
  std::string error;
  auto recorder = Recorder::open(path, kRateHz, kChannels, error, std::move(options));
  EXPECT_TRUE(recorder) << error;
  EXPECT_EQ(error, "");
  return recorder;
}

// --- The header, byte by byte -----------------------------------------------------------------

std::uint32_t little_endian(const std::string& bytes, std::size_t at, std::size_t width) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    value |= std::uint32_t{static_cast<unsigned char>(bytes[at + i])} << (8 * i);
  }
  return value;
}

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

std::optional<WavHeader> read_header(const std::string& path, std::string& error) {
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

::testing::AssertionResult HeaderHolds(const std::string& path, std::uint64_t frames,
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

// The file as libsndfile reads it; fails the test if it cannot.
testing::Wav read_or_fail(const std::string& path) {
  std::string error;
  std::optional<testing::Wav> wav = testing::read_wav(path, error);
  EXPECT_TRUE(wav) << error;
  return wav ? *wav : testing::Wav{};
}

// --- A child process, for what must survive the death of the recording process --------------

void write_all(int fd, const std::string& text) {
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t written = write(fd, text.data() + done, text.size() - done);
    if (written <= 0) return;
    done += static_cast<std::size_t>(written);
  }
}

// In a child: says why on the report pipe and exits with 1.
[[noreturn]] void child_fails(int report_fd, const std::string& why) {
  write_all(report_fd, "child failed: " + why);
  _exit(1);
}

// A forked child running `body(report_fd)`, which then _exits(0) unless `body` ended otherwise.
// Fork is safe here: the test process has no other thread (every earlier recorder joined its
// writer). Every wait has a timeout; the destructor kills and reaps a child still running.
class ForkedChild {
 public:
  explicit ForkedChild(const std::function<void(int report_fd)>& body) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::strerror(errno));
    pid_ = fork();
    if (pid_ == 0) {
      close(fds[0]);
      body(fds[1]);
      _exit(0);
    }
    close(fds[1]);
    report_fd_ = fds[0];
  }
  ~ForkedChild() {
    if (!reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &wait_status_, 0);
    }
    close(report_fd_);
  }
  ForkedChild(const ForkedChild&) = delete;
  ForkedChild& operator=(const ForkedChild&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& report() const { return report_; }

  // Reads the child's report until it contains `text`; false on timeout or end of the report.
  bool wait_for_report(const std::string& text, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (report_.find(text) == std::string::npos) {
      if (!read_some(deadline)) return false;
    }
    return true;
  }

  // Reads the report to its end and reaps the child; kills it first if it outlives `timeout`.
  // Returns the wait status, or nullopt if the child had to be killed.
  std::optional<int> wait(std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool in_time = true;
    while (read_some(deadline)) {
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid_, SIGKILL);
      in_time = false;
    }
    waitpid(pid_, &wait_status_, 0);
    reaped_ = true;
    return in_time ? std::optional(wait_status_) : std::nullopt;
  }

 private:
  // False at the end of the report (the child exited) or at the deadline.
  bool read_some(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd readable{report_fd_, POLLIN, 0};
    if (left.count() <= 0 || poll(&readable, 1, static_cast<int>(left.count())) <= 0) {
      return false;
    }
    char buffer[512];
    const ssize_t got = read(report_fd_, buffer, sizeof buffer);
    if (got <= 0) return false;
    report_.append(buffer, static_cast<std::size_t>(got));
    return true;
  }

  pid_t pid_ = -1;
  int report_fd_ = -1;
  bool reaped_ = false;
  int wait_status_ = 0;
  std::string report_;
};

bool killed_by(std::optional<int> wait_status, int signal_number) {
  return wait_status && WIFSIGNALED(*wait_status) && WTERMSIG(*wait_status) == signal_number;
}

// ---------------------------------------------------------------------------------------------

TEST(Recorder, FramesPushedInBlocksFromACallbackThreadArriveInTheFileSampleForSample) {
  TempDir directory;
  const std::string path = directory.file("take.wav");
  // A ring of 4096 frames, so that 100,000 frames wrap it two dozen times; the last block is
  // short (100000 = 390 * 256 + 160).
  constexpr std::uint64_t kFrames = 100'000;
  auto recorder = open_or_fail(path, ring_of(4096));
  ASSERT_TRUE(recorder);
  ASSERT_EQ(recorder->ring_frames(), 4096u);
  const std::vector<float> stream = noise(kFrames, 1);

  std::thread callback([&] {
    for (std::uint64_t pushed = 0; pushed < kFrames;) {
      const auto block =
          static_cast<std::uint32_t>(std::min<std::uint64_t>(kBlockFrames, kFrames - pushed));
      // A device calls once per period, far slower than the disk; this stand-in calls as soon
      // as the ring has room, so that no frame is dropped whatever the machine's load.
      while (pushed + block - recorder->frames_written() > recorder->ring_frames()) {
        std::this_thread::sleep_for(1ms);
      }
      recorder->on_mixed(stream.data() + pushed * kChannels, block);
      pushed += block;
    }
  });
  callback.join();
  recorder->finish();

  EXPECT_EQ(recorder->error(), "");
  EXPECT_EQ(recorder->frames_written(), kFrames);
  EXPECT_EQ(recorder->frames_dropped(), 0u);
  EXPECT_TRUE(HeaderHolds(path, kFrames));
  const testing::Wav wav = read_or_fail(path);
  EXPECT_EQ(wav.format, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  EXPECT_EQ(wav.sample_rate_hz, kRateHz);
  EXPECT_EQ(wav.channels, kChannels);
  ASSERT_EQ(wav.frames, kFrames);
  // Tolerance 0: float32 in, float32 out, nothing in between may change a bit.
  for (std::size_t i = 0; i < stream.size(); ++i) {
    ASSERT_EQ(wav.samples[i], stream[i]) << "sample " << i << " (frame " << i / kChannels << ")";
  }
}

TEST(Recorder, FramesThatDoNotFitTheRingOfAStalledWriterAreDroppedAndCountedExactly) {
  TempDir directory;
  const std::string path = directory.file("stalled.wav");
  std::promise<void> disk_back;
  std::shared_future<void> disk_is_back = disk_back.get_future().share();
  auto recorder = open_or_fail(path, ring_of(1024, [disk_is_back] { disk_is_back.wait(); }));
  ASSERT_TRUE(recorder);

  // Blocks of 300 into 1024 frames: three fit (900), the fourth fits 124 of its 300, the
  // remaining six do not fit at all.
  push_in_blocks(*recorder, numbered(0, 3000), 300);
  EXPECT_EQ(recorder->frames_dropped(), 3000u - 1024u) << "counted at once, by on_mixed itself";
  EXPECT_EQ(recorder->frames_written(), 0u);

  disk_back.set_value();
  ASSERT_TRUE(wait_until([&] { return recorder->frames_written() == 1024; }, 5s))
      << recorder->frames_written() << " frames written";
  // Recording goes on after the drop: these fit again.
  push_in_blocks(*recorder, numbered(3000, 600), 300);
  recorder->finish();

  EXPECT_EQ(recorder->error(), "");
  EXPECT_EQ(recorder->frames_written(), 1024u + 600u);
  EXPECT_EQ(recorder->frames_dropped(), 3000u - 1024u);
  EXPECT_TRUE(HeaderHolds(path, 1024 + 600));
  const testing::Wav wav = read_or_fail(path);
  ASSERT_EQ(wav.frames, 1024u + 600u);
  // The first 1024 pushed frames, then the 600 pushed after the stall, each in order.
  for (std::uint64_t frame = 0; frame < wav.frames; ++frame) {
    const std::uint64_t pushed_as = frame < 1024 ? frame : 3000 + (frame - 1024);
    ASSERT_EQ(wav.at(frame, 0), static_cast<float>(pushed_as)) << "frame " << frame;
    ASSERT_EQ(wav.at(frame, 1), -static_cast<float>(pushed_as)) << "frame " << frame;
  }
}

TEST(Recorder, UnderAProducerFasterThanTheWriterEveryFrameIsWrittenOrCountedAndOrderIsKept) {
  TempDir directory;
  const std::string path = directory.file("race.wav");
  auto recorder = open_or_fail(path, ring_of(512));
  ASSERT_TRUE(recorder);
  constexpr std::uint64_t kFrames = 400 * kBlockFrames;
  const std::vector<float> stream = numbered(0, kFrames);
  // Bursts of 8 blocks (2048 frames, four times the ring) with a pause after each, in which
  // the writer catches up: drops and writes interleave all through the stream.
  std::thread callback([&] {
    for (std::uint64_t first = 0; first < kFrames; first += kBlockFrames) {
      recorder->on_mixed(stream.data() + first * kChannels, kBlockFrames);
      if ((first / kBlockFrames) % 8 == 7) std::this_thread::sleep_for(300us);
    }
  });
  callback.join();
  recorder->finish();

  EXPECT_EQ(recorder->error(), "");
  const std::uint64_t written = recorder->frames_written();
  EXPECT_EQ(written + recorder->frames_dropped(), kFrames);
  EXPECT_TRUE(HeaderHolds(path, written));
  const testing::Wav wav = read_or_fail(path);
  ASSERT_EQ(wav.frames, written);
  ASSERT_GT(wav.frames, 0u);
  // Identical to the stream up to the first drop; after it, pushed frames in pushed order.
  std::uint64_t expected = 0;
  for (std::uint64_t frame = 0; frame < wav.frames; ++frame) {
    const float index = wav.at(frame, 0);
    ASSERT_EQ(wav.at(frame, 1), -index) << "frame " << frame << " mixes two pushed frames";
    ASSERT_GE(index, static_cast<float>(expected)) << "frame " << frame << " is out of order";
    if (index != static_cast<float>(expected)) {
      ASSERT_GT(recorder->frames_dropped(), 0u) << "a gap at frame " << frame << " without a drop";
    }
    expected = static_cast<std::uint64_t>(index) + 1;
  }
  std::printf("[ measured ] %llu of %llu frames written through a 512-frame ring\n",
              static_cast<unsigned long long>(written), static_cast<unsigned long long>(kFrames));
}

// The child pushes kFrames, waits until the recorder says all of them are written, and is then
// killed with SIGKILL: no finish(), no destructor, no sf_close. Everything it confirmed must be
// in the file, and the header must say so.
TEST(Recorder, AFileWhoseRecordingProcessIsKilledIsAValidWavWithEveryConfirmedFrame) {
  TempDir directory;
  const std::string path = directory.file("killed.wav");
  constexpr std::uint64_t kFrames = 20'000;  // not a multiple of the wake or chunk size
  const std::vector<float> stream = noise(kFrames, 2);
  ForkedChild child([&](int report_fd) {
    std::string error;
    auto recorder = Recorder::open(path, kRateHz, kChannels, error);
    if (!recorder) child_fails(report_fd, error);
    push_in_blocks(*recorder, stream, kBlockFrames);
    if (!wait_until([&] { return recorder->frames_written() == kFrames; }, 5s)) {
      child_fails(report_fd, std::to_string(recorder->frames_written()) + " frames written");
    }
    raise(SIGKILL);
  });
  const std::optional<int> status = child.wait();
  ASSERT_TRUE(killed_by(status, SIGKILL)) << child.report();

  EXPECT_TRUE(HeaderHolds(path, kFrames));
  const testing::Wav wav = read_or_fail(path);
  ASSERT_EQ(wav.frames, kFrames);
  for (std::size_t i = 0; i < stream.size(); ++i) {
    ASSERT_EQ(wav.samples[i], stream[i]) << "sample " << i;
  }
}

// Killed at a moment it does not choose, while it records: the file is still a WAV that holds
// a prefix of what was pushed, and its header never claims more than the file holds.
TEST(Recorder, AFileWhoseRecordingProcessIsKilledMidStreamHoldsAPrefixOfTheStream) {
  TempDir directory;
  const std::string path = directory.file("midstream.wav");
  ForkedChild child([&](int report_fd) {
    std::string error;
    auto recorder = Recorder::open(path, kRateHz, kChannels, error, waking_at(kBlockFrames));
    if (!recorder) child_fails(report_fd, error);
    write_all(report_fd, "recording\n");
    // A callback at up to 5x real time for 4 s at most (the 2 s ring never fills at that rate
    // unless the disk stalls for half a second); the parent kills it long before.
    for (std::uint64_t first = 0; first < 4 * 5 * kRateHz; first += kBlockFrames) {
      push_in_blocks(*recorder, numbered(first, kBlockFrames), kBlockFrames);
      std::this_thread::sleep_for(1ms);
    }
    child_fails(report_fd, "was not killed");
  });
  ASSERT_TRUE(child.wait_for_report("recording", 5s)) << child.report();
  // Some 40,000 frames in: many writes and header updates behind it, more under way.
  ASSERT_TRUE(wait_until(
      [&] {
        struct stat file {};
        return stat(path.c_str(), &file) == 0 && file.st_size > 40'000 * 8;
      },
      5s));
  kill(child.pid(), SIGKILL);
  ASSERT_TRUE(killed_by(child.wait(), SIGKILL)) << child.report();

  const testing::Wav wav = read_or_fail(path);
  ASSERT_GE(wav.frames, 40'000u - 2 * kBlockFrames);
  EXPECT_TRUE(HeaderHolds(path, wav.frames, FileEnd::kMayTrail));
  for (std::uint64_t frame = 0; frame < wav.frames; ++frame) {
    ASSERT_EQ(wav.at(frame, 0), static_cast<float>(frame)) << "frame " << frame;
    ASSERT_EQ(wav.at(frame, 1), -static_cast<float>(frame)) << "frame " << frame;
  }
}

// RLIMIT_FSIZE stands for a full disk: past the limit, write() fails with EFBIG (SIGXFSZ is
// ignored), as it fails with ENOSPC on a full file system.
TEST(Recorder, AFullDiskEndsTheWritingKeepsTheErrorAndCountsEveryLaterFrameAsDropped) {
  TempDir directory;
  const std::string path = directory.file("full.wav");
  constexpr rlim_t kFileLimitBytes = 64 * 1024;
  constexpr std::uint64_t kFrames = 20'000;  // 160,000 bytes: more than the limit
  constexpr std::uint64_t kLaterFrames = 1'000;
  const std::vector<float> stream = noise(kFrames + kLaterFrames, 3);
  ForkedChild child([&](int report_fd) {
    const rlimit limit{kFileLimitBytes, kFileLimitBytes};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0 || signal(SIGXFSZ, SIG_IGN) == SIG_ERR) {
      child_fails(report_fd, std::strerror(errno));
    }
    std::string error;
    auto recorder = Recorder::open(path, kRateHz, kChannels, error);
    if (!recorder) child_fails(report_fd, error);
    const std::vector<float> first(stream.begin(), stream.begin() + kFrames * kChannels);
    push_in_blocks(*recorder, first, kBlockFrames);
    const auto all_handled = [&](std::uint64_t frames) {
      return recorder->frames_written() + recorder->frames_dropped() == frames;
    };
    if (!wait_until([&] { return all_handled(kFrames); }, 5s)) child_fails(report_fd, "stuck");
    // The writer has failed by now; what comes later is dropped without a try.
    const std::vector<float> later(stream.begin() + kFrames * kChannels, stream.end());
    push_in_blocks(*recorder, later, kBlockFrames);
    recorder->finish();
    write_all(report_fd, std::to_string(recorder->frames_written()) + " " +
                             std::to_string(recorder->frames_dropped()) + "\n" + recorder->error());
  });
  const std::optional<int> status = child.wait();
  ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << child.report();

  std::istringstream report(child.report());
  std::uint64_t written = 0;
  std::uint64_t dropped = 0;
  std::string error;
  report >> written >> dropped;
  report.ignore(1);
  std::getline(report, error, '\0');
  std::printf("[ measured ] %llu frames written before the %llu-byte limit, %llu dropped: %s\n",
              static_cast<unsigned long long>(written),
              static_cast<unsigned long long>(kFileLimitBytes),
              static_cast<unsigned long long>(dropped), error.c_str());
  EXPECT_EQ(written + dropped, kFrames + kLaterFrames);
  EXPECT_GE(dropped, kLaterFrames + (kFrames - kFileLimitBytes / 8));
  EXPECT_GT(written, 0u);
  EXPECT_NE(error.find("'" + path + "'"), std::string::npos) << error;
  EXPECT_NE(error.find("File too large"), std::string::npos) << error;  // strerror(EFBIG)
  EXPECT_NE(error.find("disk full"), std::string::npos) << error;

  // The file keeps what was written, as a valid WAV.
  const testing::Wav wav = read_or_fail(path);
  ASSERT_EQ(wav.frames, written);
  EXPECT_TRUE(HeaderHolds(path, written, FileEnd::kMayTrail));
  for (std::size_t i = 0; i < wav.samples.size(); ++i) {
    ASSERT_EQ(wav.samples[i], stream[i]) << "sample " << i;
  }
}

TEST(Recorder, AnUnwritablePathFailsInOpenWithAMessageNamingThePathTheReasonAndTheFix) {
  TempDir directory;
  const std::string missing = directory.file("no-such-directory/take.wav");
  std::string error;
  EXPECT_FALSE(Recorder::open(missing, kRateHz, kChannels, error));
  EXPECT_NE(error.find("'" + missing + "'"), std::string::npos) << error;
  EXPECT_NE(error.find("No such file or directory"), std::string::npos) << error;
  EXPECT_NE(error.find("--record another path"), std::string::npos) << error;

  error.clear();
  EXPECT_FALSE(Recorder::open(directory.path(), kRateHz, kChannels, error));
  EXPECT_NE(error.find("'" + directory.path() + "'"), std::string::npos) << error;
  EXPECT_NE(error.find("Is a directory"), std::string::npos) << error;
}

// The counter works: an allocation made by this thread in the counted region is seen, whether
// it comes through operator new, aligned new or malloc; one made by another thread is not.
TEST(AllocationCounting, SeesAnAllocationByThisThreadOnly) {
  if (!testing::malloc_is_counted()) GTEST_SKIP() << "sanitizer build: the sanitizer owns malloc";
  std::vector<float>* on_heap = nullptr;
  EXPECT_EQ(allocations_during([&] { on_heap = new std::vector<float>(64); }), 2u);
  delete on_heap;
  struct alignas(128) Wide {
    float values[32];
  };
  Wide* wide = nullptr;
  EXPECT_EQ(allocations_during([&] {
              wide = new Wide;
              escape(wide);
            }),
            1u);
  delete wide;
  char* text = nullptr;
  EXPECT_EQ(allocations_during([&] { text = strdup("C code allocates with malloc"); }), 1u);
  std::free(text);
  // Another thread allocates while this one counts: not counted.
  std::atomic<bool> go{false};
  std::vector<int>* elsewhere = nullptr;
  std::thread other([&] {
    go.wait(false);
    elsewhere = new std::vector<int>(8);
  });
  EXPECT_EQ(allocations_during([&] {
              go.store(true);
              go.notify_one();
              other.join();
            }),
            0u);
  EXPECT_NE(elsewhere, nullptr);
  delete elsewhere;
}

// Every path on_mixed() has: copies that fit, a copy that wraps the ring's end, the wake of a
// sleeping writer, a partial drop and whole drops against a stalled writer.
TEST(Recorder, OnMixedAllocatesNothing) {
  if (!testing::malloc_is_counted()) GTEST_SKIP() << "sanitizer build: the sanitizer owns malloc";
  TempDir directory;
  const std::vector<float> stream = noise(4 * kBlockFrames, 4);
  std::uint64_t allocations = 0;
  {
    auto recorder = open_or_fail(directory.file("flowing.wav"), ring_of(2048));
    ASSERT_TRUE(recorder);
    for (int call = 0; call < 2000; ++call) {
      const auto frames = static_cast<std::uint32_t>(1 + (call * 97) % (4 * kBlockFrames));
      allocations += allocations_during([&] { recorder->on_mixed(stream.data(), frames); });
      if (call % 8 == 7) std::this_thread::sleep_for(100us);  // lets the writer fall asleep
    }
    recorder->finish();
    EXPECT_GT(recorder->frames_written(), 0u);
  }
  {
    std::promise<void> disk_back;
    std::shared_future<void> disk_is_back = disk_back.get_future().share();
    auto recorder = open_or_fail(directory.file("stalled.wav"),
                                 ring_of(1024, [disk_is_back] { disk_is_back.wait(); }));
    ASSERT_TRUE(recorder);
    for (int call = 0; call < 20; ++call) {
      allocations += allocations_during([&] { recorder->on_mixed(stream.data(), 300); });
    }
    EXPECT_EQ(recorder->frames_dropped(), 20u * 300u - 1024u);
    disk_back.set_value();
  }
  EXPECT_EQ(allocations, 0u);
}

TEST(Recorder, FinishTwiceIsHarmlessAndARecordingOfNothingIsAValidEmptyWav) {
  TempDir directory;
  const std::string path = directory.file("empty.wav");
  auto recorder = open_or_fail(path);
  ASSERT_TRUE(recorder);
  recorder->finish();
  recorder->finish();
  EXPECT_EQ(recorder->error(), "");
  EXPECT_EQ(recorder->frames_written(), 0u);
  EXPECT_EQ(recorder->frames_dropped(), 0u);
  EXPECT_EQ(recorder->path(), path);
  EXPECT_TRUE(HeaderHolds(path, 0));
  const testing::Wav wav = read_or_fail(path);
  EXPECT_EQ(wav.format, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  EXPECT_EQ(wav.channels, kChannels);
  EXPECT_EQ(wav.sample_rate_hz, kRateHz);
  EXPECT_EQ(wav.frames, 0u);
  recorder.reset();  // the destructor's finish(), a third one
  EXPECT_TRUE(HeaderHolds(path, 0));
}

// The writer learns of data from on_mixed() and of shutdown from finish(), not from its
// timeout: with the timeout an hour long, a batch of wake_frames is written at once and
// finish() writes the rest and returns (a lost wake-up hangs here until ctest's timeout).
TEST(Recorder, TheWriterIsWokenByDataAndByFinishNotByItsTimeout) {
  TempDir directory;
  const std::string path = directory.file("woken.wav");
  RecorderOptions options = waking_at(kBlockFrames);
  options.writer_recheck = std::chrono::hours(1);
  auto recorder = open_or_fail(path, std::move(options));
  ASSERT_TRUE(recorder);
  const std::vector<float> stream = numbered(0, 3 * kBlockFrames + 100);
  for (std::uint64_t batch = 1; batch <= 3; ++batch) {
    recorder->on_mixed(stream.data() + (batch - 1) * kBlockFrames * kChannels, kBlockFrames);
    EXPECT_TRUE(wait_until([&] { return recorder->frames_written() == batch * kBlockFrames; }, 10s))
        << "batch " << batch << ": " << recorder->frames_written() << " frames written";
  }
  recorder->on_mixed(stream.data() + 3 * kBlockFrames * kChannels, 100);  // below wake_frames
  recorder->finish();
  EXPECT_EQ(recorder->frames_written(), 3 * kBlockFrames + 100);
  EXPECT_TRUE(HeaderHolds(path, 3 * kBlockFrames + 100));
}

// A writer with nothing to write sleeps: over half a second of silence the whole process uses
// next to no CPU. Not a speed threshold: a loaded machine gives a thread less CPU, never more,
// so only a writer that spins or polls can exceed 50 ms in 500.
TEST(Recorder, AnIdleWriterSleepsInsteadOfPolling) {
  TempDir directory;
  auto recorder = open_or_fail(directory.file("idle.wav"));
  ASSERT_TRUE(recorder);
  push_in_blocks(*recorder, noise(kBlockFrames, 5), kBlockFrames);
  const auto cpu_ns = [] {
    timespec now{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return now.tv_sec * 1'000'000'000ll + now.tv_nsec;
  };
  const long long before = cpu_ns();
  std::this_thread::sleep_for(500ms);
  const long long used_ns = cpu_ns() - before;
  std::printf("[ measured ] %lld us of CPU in 500 ms idle\n", used_ns / 1000);
  EXPECT_LT(used_ns, 50'000'000);
  // It did notice the one block below its wake threshold, through its shutdown timeout.
  EXPECT_EQ(recorder->frames_written(), kBlockFrames);
}

}  // namespace
}  // namespace synthfarm
