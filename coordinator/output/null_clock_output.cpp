#include <pthread.h>
#include <time.h>

#include <atomic>
#include <thread>
#include <vector>

#include "coordinator/output/audio_output.h"
#include "shared/realtime_counters.h"
#include "shared/realtime_policy.h"

namespace synthfarm {
namespace {

class NullClockOutput final : public AudioOutput {
 public:
  NullClockOutput(std::uint32_t sample_rate_hz, std::uint32_t buffer_frames, std::uint32_t channels)
      : sample_rate_hz_(sample_rate_hz),
        buffer_frames_(buffer_frames),
        buffer_(std::size_t{buffer_frames} * channels) {}

  ~NullClockOutput() override { stop(); }

  std::string description() const override {
    return "null clock (no device), " + std::to_string(sample_rate_hz_) + " Hz, " +
           std::to_string(buffer_frames_) + " frames per buffer";
  }
  std::uint32_t sample_rate_hz() const override { return sample_rate_hz_; }
  std::uint32_t buffer_frames() const override { return buffer_frames_; }
  std::optional<int> audio_thread_priority() const override { return kRealtimePriority; }

  bool start(Mixer& mixer, std::string&) override {
    running_.store(true, std::memory_order_relaxed);
    thread_ = std::thread([this, &mixer] { run(mixer); });
    pthread_setname_np(thread_.native_handle(), "synthfarm-clock");
    return true;
  }

  void stop() noexcept override {
    running_.store(false, std::memory_order_relaxed);
    if (thread_.joinable()) thread_.join();
  }

 private:
  // Thread: the clock. Deadline k is start + k * period, computed from k so no error
  // accumulates. Waking more than a period late skips the missed buffers and counts an
  // underflow, as a device would, instead of bursting to catch up.
  void run(Mixer& mixer) noexcept {
    request_realtime_priority();
    prefault_stack();  // its pages exist (and are locked) before the first period
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    const std::int64_t start_ns = timespec_to_ns(now);
    // Split into whole seconds and a remainder so the product never overflows 64 bits.
    const auto deadline_ns = [&](std::uint64_t k) {
      const std::uint64_t frames = k * buffer_frames_;
      return start_ns + static_cast<std::int64_t>(frames / sample_rate_hz_) * kNanosPerSecond +
             static_cast<std::int64_t>((frames % sample_rate_hz_) * kNanosPerSecond /
                                       sample_rate_hz_);
    };
    std::uint64_t period = 0;
    while (running_.load(std::memory_order_relaxed)) {
      mixer.mix(buffer_.data(), buffer_frames_);
      ++period;
      const timespec deadline = timespec_from_ns(deadline_ns(period));
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr);
      clock_gettime(CLOCK_MONOTONIC, &now);
      if (timespec_to_ns(now) >= deadline_ns(period + 1)) {
        mixer.count_device_underflow();
        while (timespec_to_ns(now) >= deadline_ns(period + 1)) ++period;
      }
    }
  }

  // Thread: the clock, before its first period. Like a device's callback thread: SCHED_FIFO
  // at 70 (our own threads go below it) when the system grants it (root, CAP_SYS_NICE or an
  // rtprio limit). Refused, the clock carries on at normal priority, with more jitter; it says
  // nothing here: the start-up report reads the policy the thread ended up with (through
  // Mixer::output_thread) and says so.
  static void request_realtime_priority() noexcept {
    sched_param parameters{};
    parameters.sched_priority = kRealtimePriority;
    pthread_setschedparam(pthread_self(), SCHED_FIFO, &parameters);
  }
  static constexpr int kRealtimePriority = 70;

  std::uint32_t sample_rate_hz_;
  std::uint32_t buffer_frames_;
  std::vector<float> buffer_;
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace

std::unique_ptr<AudioOutput> make_null_clock_output(std::uint32_t sample_rate_hz,
                                                    std::uint32_t buffer_frames,
                                                    std::uint32_t channels) {
  return std::make_unique<NullClockOutput>(sample_rate_hz, buffer_frames, channels);
}

}  // namespace synthfarm
