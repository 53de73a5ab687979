#pragma once
// --record FILE.wav: records what the output plays, while it plays.
//
// The output thread hands every buffer to on_mixed(), which only copies it into a lock-free
// ring owned by the recorder (frames that do not fit are dropped and counted, never waited
// for). A non-real-time writer thread takes them out and writes a float32 WAV through
// libsndfile, with the header brought up to date after every write: the file on disk is a
// valid WAV holding every frame written so far at all times, even if the process is killed
// with SIGKILL. A write error (disk full) ends the writing; the file keeps what was written,
// and later frames are counted as dropped.

#include <sndfile.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "coordinator/mix/mix_tap.h"
#include "shared/segment_layout.h"
#include "shared/spsc_ring.h"

namespace synthfarm {

struct RecorderOptions {
  // Frames the ring holds, rounded up to a power of two. 0: two seconds of audio (see
  // recorder.cpp for why).
  std::uint32_t ring_frames = 0;
  // on_mixed() wakes a sleeping writer once the ring holds this many frames, so that neither
  // the callback's futex syscall (3 to 7 us measured) nor the writer's header update happens
  // on every buffer: at 256-frame buffers, one callback in 8 pays the wake.
  // Fewer frames wait for the writer's own timeout (writer_recheck). 0: 1/64 of the ring
  // (2048 frames, 43 ms, at 48 kHz).
  std::uint32_t wake_frames = 0;
  // The writer also wakes this often untold, so that frames fewer than wake_frames (a paused
  // output) still reach the file. Not how it notices data, nor shutdown: on_mixed() and
  // finish() wake it.
  std::chrono::milliseconds writer_recheck{100};
  // Test seam: the writer thread calls this before it takes frames out of the ring, once per
  // batch; a test blocks in it to stand for a stalled disk. Never called by on_mixed().
  std::function<void()> before_write;
};

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
  // RT-safe: no allocation, lock, I/O, logging or waiting; copies into the ring, counts the
  // frames that do not fit as dropped, and makes at most one futex wake syscall, only when the
  // writer sleeps and the ring holds wake_frames. `interleaved` holds `frames` frames of the
  // channel count given to open().
  void on_mixed(const float* interleaved, std::uint32_t frames) noexcept override;

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
    return dropped_by_ring_.load(std::memory_order_relaxed) +
           dropped_by_writer_.load(std::memory_order_relaxed);
  }
  // Thread: control, after finish(). Why writing stopped early; empty when all went well.
  const std::string& error() const noexcept { return error_; }
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

  const std::string path_;
  SNDFILE* file_;  // owned; closed by finish()
  const std::uint32_t wake_frames_;
  const std::uint32_t chunk_frames_;
  const std::chrono::milliseconds writer_recheck_;
  const std::function<void()> before_write_;
  std::unique_ptr<float[]> ring_memory_;

  // Producer side: written by on_mixed() only.
  alignas(kCacheLineBytes) std::atomic<std::uint64_t> write_pos_{0};
  std::atomic<std::uint64_t> dropped_by_ring_{0};
  // Consumer side: written by the writer thread only (then by finish(), after the join).
  alignas(kCacheLineBytes) std::atomic<std::uint64_t> read_pos_{0};
  std::atomic<std::uint64_t> frames_written_{0};
  std::atomic<std::uint64_t> dropped_by_writer_{0};
  WakeWord wake_;  // the writer sleeps here; on_mixed() and finish() wake it
  std::atomic<bool> stop_requested_{false};

  SpscRing ring_;      // over ring_memory_, write_pos_ and read_pos_; declared after them
  std::string error_;  // written by the writer thread, read after it is joined
  std::thread writer_;
};

}  // namespace synthfarm
