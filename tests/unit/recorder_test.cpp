// The recorder behind --record: what the output plays reaches a valid WAV file, frame for
// frame, through a lock-free ring; frames it cannot take are counted, never waited for; a full
// disk ends the writing with an error any thread may read while it happens; on_mixed()
// allocates nothing. (That the file stays valid when the process is killed is
// tests/process/recorder_process_test: it takes a child process.)
//
// Files are read back twice: with libsndfile (tests/support/wav_file.h), for the frames, and
// byte by byte (tests/support/recording_checks.h), for the header itself.
#include "coordinator/output/recorder.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/allocation_counter.h"
#include "tests/support/recording_checks.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wav_file.h"

namespace synthfarm {
namespace {

using namespace std::chrono_literals;
using namespace synthfarm::testing::recording;
using synthfarm::testing::escape;
using synthfarm::testing::TempDir;

// Allocations made by this thread while `run` runs: the writer thread may allocate meanwhile.
template <typename Run>
std::uint64_t allocations_during(Run&& run) {
  return testing::count_allocations(std::forward<Run>(run), testing::CountedThreads::kCalling)
      .malloc_family;
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

// A full disk, for this process while it lives: past `bytes`, write() to a regular file fails
// with EFBIG, as it fails with ENOSPC on a full file system (RLIMIT_FSIZE, with SIGXFSZ ignored
// so that the write fails instead of killing the process). Only the soft limit is lowered, so
// that the destructor can restore both.
class FullDiskAt {
 public:
  explicit FullDiskAt(rlim_t bytes) {
    ok_ = getrlimit(RLIMIT_FSIZE, &previous_limit_) == 0;
    previous_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit limit = previous_limit_;
    limit.rlim_cur = bytes;
    ok_ = ok_ && previous_handler_ != SIG_ERR && setrlimit(RLIMIT_FSIZE, &limit) == 0;
    if (!ok_) error_ = std::strerror(errno);
  }
  ~FullDiskAt() {
    setrlimit(RLIMIT_FSIZE, &previous_limit_);
    if (previous_handler_ != SIG_ERR) std::signal(SIGXFSZ, previous_handler_);
  }
  FullDiskAt(const FullDiskAt&) = delete;
  FullDiskAt& operator=(const FullDiskAt&) = delete;

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }

 private:
  rlimit previous_limit_{};
  void (*previous_handler_)(int) = SIG_ERR;
  bool ok_ = false;
  std::string error_;
};

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

TEST(Recorder, AFullDiskEndsTheWritingKeepsTheErrorAndCountsEveryLaterFrameAsDropped) {
  TempDir directory;
  const std::string path = directory.file("full.wav");
  constexpr rlim_t kFileLimitBytes = 64 * 1024;
  constexpr std::uint64_t kFrames = 20'000;  // 160,000 bytes: more than the limit
  constexpr std::uint64_t kLaterFrames = 1'000;
  const std::vector<float> stream = noise(kFrames + kLaterFrames, 3);
  std::uint64_t written = 0;
  std::uint64_t dropped = 0;
  std::string error;
  {
    const FullDiskAt full_disk(kFileLimitBytes);
    ASSERT_TRUE(full_disk.ok()) << full_disk.error();
    auto recorder = open_or_fail(path);
    ASSERT_TRUE(recorder);
    const std::vector<float> first(stream.begin(), stream.begin() + kFrames * kChannels);
    push_in_blocks(*recorder, first, kBlockFrames);
    const auto all_handled = [&](std::uint64_t frames) {
      return recorder->frames_written() + recorder->frames_dropped() == frames;
    };
    ASSERT_TRUE(wait_until([&] { return all_handled(kFrames); }, 5s)) << "stuck";
    // The writer has failed by now; what comes later is dropped without a try.
    const std::vector<float> later(stream.begin() + kFrames * kChannels, stream.end());
    push_in_blocks(*recorder, later, kBlockFrames);
    recorder->finish();
    written = recorder->frames_written();
    dropped = recorder->frames_dropped();
    error = recorder->error();
  }
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

// Issue 13: `report FILE` reads the error on the control thread while the writer thread may be
// setting it. Here a control thread reads error() in a loop all through a recording that fills
// the disk: it reads it empty first (it starts before the first frame), then sees the whole
// final message while the recording goes on, and never anything else. Under ThreadSanitizer
// any unsynchronised access to the string between the two threads is reported.
TEST(Recorder, TheErrorIsReadFromAnotherThreadWhileTheWriterFailsWholeOrNotAtAll) {
  TempDir directory;
  const std::string path = directory.file("failing.wav");
  const FullDiskAt full_disk(16 * 1024);  // about 2000 frames
  ASSERT_TRUE(full_disk.ok()) << full_disk.error();
  // Small writes (a wake every block, chunks of 128 frames), so that the failure comes in the
  // middle of the reads, not at finish().
  RecorderOptions options = ring_of(1024);
  options.wake_frames = kBlockFrames;
  auto recorder = open_or_fail(path, std::move(options));
  ASSERT_TRUE(recorder);

  std::atomic<bool> stop_reading{false};
  std::atomic<std::uint64_t> empty_reads{0};
  std::atomic<bool> error_seen{false};
  std::vector<std::string> messages;  // every non-empty read that differs from the one before
  std::thread control([&] {
    while (!stop_reading.load(std::memory_order_relaxed)) {
      std::string error = recorder->error();
      if (error.empty()) {
        empty_reads.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      if (messages.empty() || messages.back() != error) messages.push_back(std::move(error));
      error_seen.store(true, std::memory_order_relaxed);
    }
  });
  ASSERT_TRUE(wait_until([&] { return empty_reads.load() > 0; }, 10s)) << "the reader never ran";

  // The callback: a block whenever the ring has room, until the reader has seen the error, and
  // as many blocks again after that (dropped by the failed writer while the reader reads).
  const std::vector<float> block = noise(kBlockFrames, 6);
  constexpr std::uint64_t kMostFrames = 2'000'000;  // far past the limit: it must have failed
  std::uint64_t pushed = 0;
  std::uint64_t pushed_when_seen = 0;
  while (pushed < kMostFrames && (pushed_when_seen == 0 || pushed < 2 * pushed_when_seen)) {
    while (pushed + kBlockFrames - recorder->frames_written() - recorder->frames_dropped() >
           recorder->ring_frames()) {
      std::this_thread::sleep_for(1ms);
    }
    recorder->on_mixed(block.data(), kBlockFrames);
    pushed += kBlockFrames;
    if (pushed_when_seen == 0 && error_seen.load(std::memory_order_relaxed)) {
      pushed_when_seen = pushed;
    }
  }
  stop_reading.store(true, std::memory_order_relaxed);
  control.join();
  recorder->finish();

  EXPECT_GT(pushed_when_seen, 0u) << "the reader never saw the error while the recording ran";
  const std::string error = recorder->error();
  EXPECT_NE(error.find("File too large"), std::string::npos) << error;
  ASSERT_EQ(messages.size(), 1u) << "one message, read whole every time";
  EXPECT_EQ(messages[0], error);
  EXPECT_EQ(recorder->frames_written() + recorder->frames_dropped(), pushed);
  std::printf("[ measured ] %llu empty reads, the error seen after %llu of %llu frames pushed\n",
              static_cast<unsigned long long>(empty_reads.load()),
              static_cast<unsigned long long>(pushed_when_seen),
              static_cast<unsigned long long>(pushed));
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
