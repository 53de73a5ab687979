#pragma once
// --output FILE.wav: the one place that waits for workers. Renders as fast as they deliver,
// into a float32 WAV through libsndfile, with a watchdog that ends the render with a clear
// message when a worker dies or stops delivering.

#include <sndfile.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "coordinator/mix/mixer.h"

namespace synthfarm {

class OfflineRender {
 public:
  // Opens the file for writing. Returns nullptr with `error` (naming the file) on failure.
  static std::unique_ptr<OfflineRender> open(const std::string& path, std::uint32_t sample_rate_hz,
                                             std::uint32_t channels, std::string& error);
  ~OfflineRender();  // joins the thread and closes the file: the WAV is always valid

  // Thread: control. Starts the file thread, which mixes `total_frames` in blocks.
  void start(Mixer& mixer, const Segment& segment, std::uint64_t total_frames,
             std::uint32_t block_frames);
  // Thread: control. Ends the render early (signal, quit); the file keeps what was written.
  void request_stop() noexcept { stop_requested_.store(true, std::memory_order_relaxed); }

  // An eventfd that becomes readable when the file thread has finished.
  int done_fd() const noexcept { return done_fd_; }
  // Thread: control, after done_fd() fired. Joins the thread and closes the file.
  void finish();

  std::uint64_t frames_written() const noexcept {
    return frames_written_.load(std::memory_order_relaxed);
  }
  // Empty when the render completed or was stopped on request.
  const std::string& error() const noexcept { return error_; }
  const std::string& path() const noexcept { return path_; }

 private:
  OfflineRender(std::string path, SNDFILE* file, std::uint32_t channels, int done_fd)
      : path_(std::move(path)), file_(file), channels_(channels), done_fd_(done_fd) {}
  void run(Mixer& mixer, const Segment& segment, std::uint64_t total_frames,
           std::uint32_t block_frames);
  // Frames mixed and written per wake: half the frames a worker renders ahead, in whole blocks.
  static std::uint32_t burst_frames(const Segment& segment, std::uint32_t block_frames);
  bool wait_for_workers(Mixer& mixer, const Segment& segment, std::uint32_t frames);
  // Sets error_ and returns true if `worker` has exited (the control thread marks it).
  bool worker_died(const Segment& segment, std::uint32_t worker);
  // Thread: the file thread. Mixes `frames` (at most the buffer's) in blocks of `block_frames`
  // and writes them, advancing `done`; false, with error_ set, when the write fails.
  bool mix_and_write(Mixer& mixer, std::vector<float>& buffer, std::uint32_t frames,
                     std::uint32_t block_frames, std::uint64_t& done);
  // Thread: the file thread, after a stop request. Mixes and writes, block by block, what every
  // worker has already delivered, advancing `done`; `buffer` holds at least one block.
  void write_delivered_blocks(Mixer& mixer, std::uint64_t& done, std::uint64_t total_frames,
                              std::uint32_t block_frames, std::vector<float>& buffer);

  std::string path_;
  SNDFILE* file_;
  std::uint32_t channels_;
  int done_fd_;
  std::thread thread_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<std::uint64_t> frames_written_{0};
  std::string error_;  // written by the file thread, read after it is joined
};

}  // namespace synthfarm
