#include "coordinator/output/offline_render.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "coordinator/output/float_wav_file.h"
#include "shared/shared_futex.h"

namespace synthfarm {
namespace {

// A worker that delivers nothing for this long while the file waits for it is hung.
constexpr std::chrono::seconds kHangTimeout{10};
constexpr std::chrono::milliseconds kRecheck{100};

}  // namespace

std::unique_ptr<OfflineRender> OfflineRender::open(const std::string& path,
                                                   std::uint32_t sample_rate_hz,
                                                   std::uint32_t channels, std::string& error) {
  std::string reason;
  SNDFILE* file = create_float_wav(path, sample_rate_hz, channels, reason);
  if (!file) {
    error = "--output: cannot write '" + path + "': " + reason +
            " (does the directory exist and is it writable?)";
    return nullptr;
  }
  const int done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  return std::unique_ptr<OfflineRender>(new OfflineRender(path, file, channels, done_fd));
}

OfflineRender::~OfflineRender() {
  request_stop();
  finish();
  close(done_fd_);
}

void OfflineRender::start(Mixer& mixer, const Segment& segment, std::uint64_t total_frames,
                          std::uint32_t block_frames) {
  thread_ = std::thread([=, this, &mixer, &segment] {
    run(mixer, segment, total_frames, block_frames);
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t written = write(done_fd_, &one, sizeof one);
  });
  pthread_setname_np(thread_.native_handle(), "synthfarm-file");
}

void OfflineRender::finish() {
  if (thread_.joinable()) thread_.join();
  if (file_) {
    sf_close(file_);
    file_ = nullptr;
  }
}

bool OfflineRender::wait_for_workers(Mixer& mixer, const Segment& segment, std::uint32_t frames) {
  auto last_progress = std::chrono::steady_clock::now();
  std::uint64_t last_written = 0;
  while (auto short_worker = mixer.first_short_worker(frames)) {
    if (stop_requested_.load(std::memory_order_relaxed)) return false;
    WorkerSlot& slot = segment.slot(*short_worker);
    const std::uint64_t written = slot.write_pos.load(std::memory_order_acquire);
    if (written != last_written) {
      last_written = written;
      last_progress = std::chrono::steady_clock::now();
    } else if (std::chrono::steady_clock::now() - last_progress > kHangTimeout) {
      error_ = "worker " + std::to_string(*short_worker) + " (pid " +
               std::to_string(slot.worker_pid.load(std::memory_order_relaxed)) +
               ") delivered nothing for " + std::to_string(kHangTimeout.count()) +
               " s; the render stops";
      return false;
    }
    sleep_until_ready(
        slot.data_ready,
        [&] {
          return slot.write_pos.load(std::memory_order_acquire) != written ||
                 slot.exited.load(std::memory_order_acquire) != 0;
        },
        kRecheck);
    if (worker_died(segment, *short_worker)) return false;
  }
  // A dead worker ends the render even if its ring still holds frames: every block of the file
  // must have every worker's part, so the file stops at the last complete block. Checked after
  // the wait, since any worker may die while another is waited for.
  for (std::uint32_t w = 0; w < segment.header().worker_count; ++w) {
    if (worker_died(segment, w)) return false;
  }
  return true;
}

bool OfflineRender::worker_died(const Segment& segment, std::uint32_t worker) {
  const WorkerSlot& slot = segment.slot(worker);
  if (slot.exited.load(std::memory_order_acquire) == 0) return false;
  error_ = "worker " + std::to_string(worker) + " (pid " +
           std::to_string(slot.worker_pid.load(std::memory_order_relaxed)) +
           ") died during the render; the render stops";
  return true;
}

std::uint32_t OfflineRender::burst_frames(const Segment& segment, std::uint32_t block_frames) {
  const SegmentHeader& header = segment.header();
  // Half of what a worker renders ahead: the workers refill one half while this thread mixes
  // the other.
  const std::uint32_t half = std::min(header.fill_target_frames, header.ring_frames) / 2;
  return std::max(block_frames, half / block_frames * block_frames);
}

void OfflineRender::run(Mixer& mixer, const Segment& segment, std::uint64_t total_frames,
                        std::uint32_t block_frames) {
  // Each wake of this thread moves a whole burst of blocks, not one: waking the workers, the
  // file's syscalls and this thread's own sleeps were the render's fixed cost when every
  // 256-frame block paid for them.
  const std::uint32_t burst = burst_frames(segment, block_frames);
  std::vector<float> buffer(std::size_t{burst} * channels_);
  std::uint64_t done = 0;
  while (done < total_frames && !stop_requested_.load(std::memory_order_relaxed)) {
    const auto frames =
        static_cast<std::uint32_t>(std::min<std::uint64_t>(burst, total_frames - done));
    if (!wait_for_workers(mixer, segment, frames)) break;
    if (!mix_and_write(mixer, buffer, frames, block_frames, done)) break;
  }
  if (error_.empty() && stop_requested_.load(std::memory_order_relaxed)) {
    write_delivered_blocks(mixer, done, total_frames, block_frames, buffer);
  }
}

void OfflineRender::write_delivered_blocks(Mixer& mixer, std::uint64_t& done,
                                           std::uint64_t total_frames, std::uint32_t block_frames,
                                           std::vector<float>& buffer) {
  // A stop (SIGINT, quit) keeps what was rendered: every block all workers have delivered is
  // written, not only whole bursts (a slow render, e.g. under a sanitizer, may not have
  // finished its first burst when the signal comes).
  while (done < total_frames) {
    const auto frames =
        static_cast<std::uint32_t>(std::min<std::uint64_t>(block_frames, total_frames - done));
    if (mixer.first_short_worker(frames) || !mix_and_write(mixer, buffer, frames, frames, done)) {
      return;
    }
  }
}

bool OfflineRender::mix_and_write(Mixer& mixer, std::vector<float>& buffer, std::uint32_t frames,
                                  std::uint32_t block_frames, std::uint64_t& done) {
  // Mixed in the output's blocks, exactly as before bursts: the same calls give the same bits,
  // and stop, play and gain still take effect at a block boundary. A worker asleep on a full
  // ring is woken by the first block and is still rendering when the next ones go: about one
  // wake per burst (a 10 s render at 256 frames: ~30 per worker, against 1,875 per block).
  for (std::uint32_t offset = 0; offset < frames; offset += block_frames) {
    mixer.mix(buffer.data() + std::size_t{offset} * channels_,
              std::min(block_frames, frames - offset));
  }
  if (sf_writef_float(file_, buffer.data(), frames) != frames) {
    error_ =
        "--output: writing '" + path_ + "' failed: " + sf_strerror(file_) + " (is the disk full?)";
    return false;
  }
  done += frames;
  frames_written_.store(done, std::memory_order_relaxed);
  return true;
}

}  // namespace synthfarm
