// The recorder behind --record, across the death of the process that records: killed with
// SIGKILL (no finish(), no destructor, no sf_close), its file is still a valid WAV whose header
// claims no more than the file holds. A forked child records; the parent reads the file.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "coordinator/output/recorder.h"
#include "tests/support/child_process.h"
#include "tests/support/recording_checks.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wav_file.h"

namespace synthfarm {
namespace {

using namespace std::chrono_literals;
using namespace synthfarm::testing::recording;
using synthfarm::testing::TempDir;

RecorderOptions waking_at(std::uint32_t frames) {
  RecorderOptions options;
  options.wake_frames = frames;
  return options;
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

}  // namespace
}  // namespace synthfarm
