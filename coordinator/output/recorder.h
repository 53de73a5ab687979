#pragma once
// --record FILE.wav: records what the output plays, while it plays.
//
// Two halves. The real-time one is a RecordingRing (coordinator/mix/recording_ring.h): the
// output hands every buffer to on_mixed(), which only copies it into a lock-free ring (frames
// that do not fit are dropped and counted, never waited for). This half is the writer: a
// non-real-time thread that takes the frames out and writes a float32 WAV through libsndfile,
// with the header brought up to date after every write, so that the file on disk is a valid
// WAV holding every frame written so far at all times, even if the process is killed with
// SIGKILL. A write error (disk full) ends the writing; the file keeps what was written, later
// frames are counted as dropped, and error() says why from then on.

#include <sndfile.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "coordinator/mix/mix_tap.h"
#include "coordinator/mix/recording_ring.h"

namespace synthfarm {

struct RecorderOptions {
  // Frames the ring holds, rounded up to a power of two. 0: two seconds of audio (see
  // recorder.cpp for why).
  std::uint32_t ring_frames = 0;
  // on_mixed() wakes a sleeping writer once the ring holds this many frames, so that neither
  // the callback's futex syscall nor the writer's header update happens on every buffer (see
  // recording_ring.h). Fewer frames wait for the writer's own timeout (writer_recheck). 0:
  // 1/64 of the ring (2048 frames, 43 ms, at 48 kHz).
  std::uint32_t wake_frames = 0;
  // The writer also wakes this often untold, so that frames fewer than wake_frames (a paused
  // output) still reach the file. Not how it notices data, nor shutdown: on_mixed() and
  // finish() wake it.
  std::chrono::milliseconds writer_recheck{100};
  // Test seam: the writer thread calls this before it takes frames out of the ring, once per
  // batch; a test blocks in it to stand for a stalled disk. Never called by on_mixed().
  std::function<void()> before_write;
};

// The mixer's tap is the recorder itself (so that the mixer feeds "the recorder"); the
// real-time work is its RecordingRing's.
class Recorder final : public MixTap {
 public:
  // Thread: control, before the output starts. Allocates; blocks on the file system.
  // Creates the file (float32 WAV) and the ring, and starts the writer thread. Returns nullptr
  // with `error` naming the path, the reason and what to do when the file cannot be created,
  // so that a bad path fails before anything plays.
  static std::unique_ptr<Recorder> open(const std::string& path, std::uint32_t sample_rate_hz,
                                        std::uint32_t channels, std::string& error,
                                        RecorderOptions options = {});
  // Thread: control. Calls finish().
  ~Recorder() override;
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Thread: the output (audio callback, null clock or file thread); one producer thread only.
  // RT-safe: RecordingRing::on_mixed (no allocation, lock, I/O, logging or waiting; at most one
  // futex wake). `interleaved` holds `frames` frames of the channel count given to open().
  void on_mixed(const float* interleaved, std::uint32_t frames) noexcept override {
    ring_.on_mixed(interleaved, frames);
  }

  // Thread: control, once the output no longer calls on_mixed() (frames pushed during or
  // after finish() are neither written nor counted). Blocks until the writer has written
  // what the ring holds, joins it and closes the file. Idempotent.
  void finish();

  // Thread: any. Frames in the file so far; once this reads N, the file on disk (header
  // included) holds N frames.
  std::uint64_t frames_written() const noexcept {
    // Acquire: pairs with the writer's release store after the write and the ring release.
    return frames_written_.load(std::memory_order_acquire);
  }
  // Thread: any. Frames that never reached the file: the ring was full, or writing had failed.
  // After finish(), frames_written() + frames_dropped() == every frame given to on_mixed().
  std::uint64_t frames_dropped() const noexcept {
    // Relaxed: statistics; each counter has one writer (the producer, the writer thread).
    return ring_.frames_dropped() + dropped_by_writer_.load(std::memory_order_relaxed);
  }
  // Thread: any, at any time (`report FILE` asks while the writer may be failing). Allocates:
  // returns a copy. Why writing stopped early; empty while all goes well. Once not empty, it
  // never changes.
  std::string error() const;
  // Thread: any.
  const std::string& path() const noexcept { return path_; }
  std::uint32_t ring_frames() const noexcept { return ring_.capacity_frames(); }

 private:
  Recorder(std::string path, SNDFILE* file, std::uint32_t channels, std::uint32_t ring_frames,
           RecorderOptions options);

  // Thread: writer. Writes batches until finish() asks it to stop, then what is left.
  void run_writer();
  // Thread: writer. Writes what the ring holds now, in chunks that free space as they go.
  void drain();
  // Thread: writer. Takes `frames` out of the ring into the file (or drops them after an error).
  void write_chunk(std::uint32_t frames);
  // Thread: writer, or finish() once the writer is joined (one at a time). Keeps the first
  // error only, and publishes it to error().
  void fail(std::string message);
  // Thread: writer or finish(), as fail(). Whether fail() was called (its own flag: relaxed).
  bool failed() const noexcept { return failed_.load(std::memory_order_relaxed); }

  const std::string path_;
  SNDFILE* file_;  // owned; closed by finish()
  const std::chrono::milliseconds writer_recheck_;
  const std::function<void()> before_write_;
  RecordingRing ring_;
  const std::uint32_t chunk_frames_;  // the most one write takes out of the ring

  // Written by the writer thread only (then by finish(), after the join).
  std::atomic<std::uint64_t> frames_written_{0};
  std::atomic<std::uint64_t> dropped_by_writer_{0};
  // Written once, by fail(), before failed_ is set; never written again: a reader that sees
  // failed_ (acquire) reads a complete string that nobody writes any more.
  std::string error_;
  std::atomic<bool> failed_{false};
  std::thread writer_;
};

}  // namespace synthfarm
