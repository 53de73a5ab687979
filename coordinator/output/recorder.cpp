#include "coordinator/output/recorder.h"

#include <pthread.h>

#include <algorithm>

#include "coordinator/output/float_wav_file.h"
#include "shared/realtime_counters.h"

namespace synthfarm {
namespace {

// The ring covers a stalled disk for this long before frames are dropped. Page-cache writeback
// throttling, a journal commit or a spun-down USB disk stall a write() for hundreds of
// milliseconds; two seconds covers them at the cost of 1 MiB (48 kHz stereo, rounded up to a
// power of two: 131072 frames, 2.7 s).
constexpr std::uint32_t kRingSeconds = 2;

std::uint32_t ring_frames_for(std::uint32_t requested_frames, std::uint32_t sample_rate_hz) {
  const std::uint64_t frames =
      requested_frames ? requested_frames : std::uint64_t{kRingSeconds} * sample_rate_hz;
  // RecordingRing rounds up to a power of two and clamps to its maximum.
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(frames, RecordingRing::kMaxFrames));
}

}  // namespace

std::unique_ptr<Recorder> Recorder::open(const std::string& path, std::uint32_t sample_rate_hz,
                                         std::uint32_t channels, std::string& error,
                                         RecorderOptions options) {
  std::string reason;
  SNDFILE* file = create_float_wav(path, sample_rate_hz, channels, reason);
  if (!file) {
    error = "--record: cannot write '" + path + "': " + reason +
            " (does the directory exist and is it writable? give --record another path)";
    return nullptr;
  }
  const std::uint32_t ring_frames = ring_frames_for(options.ring_frames, sample_rate_hz);
  std::unique_ptr<Recorder> recorder(
      new Recorder(path, file, channels, ring_frames, std::move(options)));
  recorder->writer_ = std::thread([raw = recorder.get()] { raw->run_writer(); });
  pthread_setname_np(recorder->writer_.native_handle(), "synthfarm-rec");
  return recorder;
}

Recorder::Recorder(std::string path, SNDFILE* file, std::uint32_t channels,
                   std::uint32_t ring_frames, RecorderOptions options)
    : path_(std::move(path)),
      file_(file),
      writer_recheck_(options.writer_recheck),
      before_write_(std::move(options.before_write)),
      ring_(channels, ring_frames, options.wake_frames),
      // A write takes at most an eighth of the ring, so a slow disk frees space as it goes
      // rather than all at once at the end of one long write.
      chunk_frames_(std::max<std::uint32_t>(ring_.capacity_frames() / 8, 1)) {}

Recorder::~Recorder() {
  finish();
}

void Recorder::finish() {
  if (writer_.joinable()) {
    ring_.close();  // the writer's last drain then sees what on_mixed() pushed before this
    writer_.join();
    // Frames pushed while the writer made its last drain (the output should have stopped).
    // The writer is joined: this thread is the consumer now.
    if (const std::uint64_t left = ring_.available_frames()) {
      ring_.skip(left);
      add_relaxed(dropped_by_writer_, left);
    }
  }
  if (file_) {
    const int closed = sf_close(file_);
    file_ = nullptr;
    if (closed != 0) {
      fail("--record: closing '" + path_ + "' failed: " + sf_error_number(closed) +
           " (is the disk full?)");
    }
  }
}

std::string Recorder::error() const {
  // Acquire: pairs with fail()'s release store; error_ is complete and no longer written.
  if (!failed_.load(std::memory_order_acquire)) return {};
  return error_;
}

void Recorder::fail(std::string message) {
  if (failed()) return;  // the first error is the one that explains the rest
  error_ = std::move(message);
  // Release: pairs with error()'s acquire; the string is written before anyone may read it.
  failed_.store(true, std::memory_order_release);
}

void Recorder::run_writer() {
  for (;;) {
    const bool stopping = ring_.closed();
    drain();
    if (stopping) return;
    ring_.wait_for_frames(writer_recheck_);
  }
}

void Recorder::drain() {
  if (ring_.available_frames() == 0) return;
  if (before_write_) before_write_();
  // What the ring holds now, and no more: a producer faster than the disk cannot keep the
  // writer from seeing finish()'s request.
  std::uint64_t remaining = ring_.available_frames();
  while (remaining > 0) {
    const auto frames =
        static_cast<std::uint32_t>(std::min<std::uint64_t>(remaining, chunk_frames_));
    write_chunk(frames);
    remaining -= frames;
  }
}

void Recorder::write_chunk(std::uint32_t frames) {
  std::uint64_t written = 0;
  std::uint64_t lost = 0;
  ring_.consume(frames, [&](const float* piece, std::uint32_t piece_frames, std::uint32_t) {
    if (failed()) {
      lost += piece_frames;
      return;
    }
    const sf_count_t done = sf_writef_float(file_, piece, piece_frames);
    const std::uint64_t done_frames = done > 0 ? static_cast<std::uint64_t>(done) : 0;
    written += done_frames;
    if (done_frames < piece_frames) {
      lost += piece_frames - done_frames;
      fail("--record: writing '" + path_ + "' failed after " +
           std::to_string(frames_written_.load(std::memory_order_relaxed) + written) +
           " frames: " + sf_strerror(file_) +
           " (is the disk full?); the file keeps those frames, later ones are dropped");
    }
  });
  // After consume() has released the frames to the producer: a reader that sees the new count
  // also sees the ring space (and the file's bytes and header, written before).
  if (written > 0) {
    frames_written_.store(frames_written_.load(std::memory_order_relaxed) + written,
                          std::memory_order_release);  // pairs: frames_written()'s acquire
  }
  if (lost > 0) add_relaxed(dropped_by_writer_, lost);
}

}  // namespace synthfarm
