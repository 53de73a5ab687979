// Nothing allocates in the audio callback: Mixer::mix (which the RtAudio callback, the null
// clock and the file thread all call) is run many times on a real shared-memory segment, in
// every state the mixer has (steady, a late worker, stop and play, an exited worker, bad
// samples, the fade-out), while every call to the global allocation functions is counted.
//
// Every global allocation function is counted (tests/support/allocation_counter.h says how),
// on every thread.
// The mixer's own additions ride along in one test: the master gain's ramps, a tap (which sees
// every buffer, in order) and the callback duration histogram.
// Counting is armed only around mix() calls: the test's own producer side (the rings' writes,
// which a worker process does) and GoogleTest's bookkeeping stay outside.
#include <gtest/gtest.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "coordinator/mix/mix_tap.h"
#include "coordinator/mix/mixer.h"
#include "coordinator/mix/worker_waker.h"
#include "shared/segment.h"
#include "shared/shared_futex.h"
#include "tests/support/allocation_counter.h"

namespace synthfarm {
namespace {

using Counts = testing::AllocationCounts;
using testing::escape;

// Counts what `run` allocates and frees, on every thread.
template <typename Run>
Counts counted(Run&& run) {
  return testing::count_allocations(std::forward<Run>(run), testing::CountedThreads::kEvery);
}

constexpr std::uint32_t kWorkers = 3;
constexpr std::uint32_t kChannels = 2;
constexpr std::uint32_t kSampleRateHz = 48000;
constexpr std::uint32_t kBlockFrames = 256;
// As the coordinator plans a real-time run: a ring of 4 buffers, rendered 2 buffers ahead.
constexpr std::uint32_t kRingFrames = 4 * kBlockFrames;
constexpr std::uint32_t kFillTargetFrames = 2 * kBlockFrames;
// Device buffer sizes the callbacks cycle through: the coordinator's block and odd sizes, so
// that reads cross the ring's end in two pieces.
constexpr std::uint32_t kCallbackFrames[] = {256, 17, 64, 255, 1, 256, 200};
constexpr std::uint32_t kMaxCallbackFrames = 256;

// A segment as the coordinator creates it, with the test in the workers' place: it writes the
// rings and sets the flags a worker and the control thread would set. Only mix() is counted.
class MixerUnderCount : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    const std::string name = "synthfarm-test-mixer-alloc-" + std::to_string(getpid());
    std::string error;
    segment_ = Segment::create(name, kWorkers, kChannels, kRingFrames, kWorkers, error);
    ASSERT_TRUE(segment_) << error;
    // The mapping stays; removing the name at once leaves nothing in /dev/shm even on a crash
    // (what the coordinator does once its workers have attached).
    ASSERT_TRUE(Segment::remove_name(name, error)) << error;
    SegmentHeader& header = segment_->header();
    header.sample_rate_hz = kSampleRateHz;
    header.block_frames = kBlockFrames;
    header.fill_target_frames = kFillTargetFrames;
    header.coordinator_pid = getpid();
    for (std::uint32_t w = 0; w < kWorkers; ++w) segment_->frequencies_hz()[w] = 440.0 + w;
    const Counts construction =
        counted([&] { mixer_ = std::make_unique<Mixer>(*segment_, /*limit_output=*/GetParam()); });
    // The counter sees this binary's allocations at all: the mixer sizes its vectors here.
    EXPECT_GT(construction.operator_new, 0u);
    out_.assign(std::size_t{kMaxCallbackFrames} * kChannels, 0.0f);
    block_.assign(std::size_t{kMaxCallbackFrames} * kChannels, 0.0f);
    // The workers' prefill, as the coordinator waits for before starting the output.
    for (std::uint32_t w = 0; w < kWorkers; ++w) deliver(w, kFillTargetFrames);
  }

  // A worker's part, uncounted: writes `frames` frames of a small sine-like ramp (or `value`).
  void deliver(std::uint32_t worker, std::uint32_t frames,
               std::optional<float> value = std::nullopt) {
    SpscRing ring = segment_->ring(worker);
    ASSERT_LE(frames, ring.free_frames()) << "the test overfilled worker " << worker << "'s ring";
    while (frames > 0) {
      const std::uint32_t piece = std::min(frames, kMaxCallbackFrames);
      for (std::size_t i = 0; i < std::size_t{piece} * kChannels; ++i) {
        block_[i] = value ? *value : 0.01f * std::sin(0.001f * static_cast<float>(phase_++));
      }
      ring.write(block_.data(), piece);
      frames -= piece;
    }
  }

  // One callback as the output calls it, counted.
  Counts callback(std::uint32_t frames) {
    ++counted_callbacks_;
    return counted([&] { mixer_->mix(out_.data(), frames); });
  }

  // Prints the count with the test's name, for the record (ctest --verbose shows it).
  void report(const Counts& counts) const {
    std::printf("[ measured ] %s: %d counted callbacks, %s\n",
                ::testing::UnitTest::GetInstance()->current_test_info()->name(), counted_callbacks_,
                ::testing::PrintToString(counts).c_str());
  }

  // `calls` callbacks of cycling sizes in which every worker in `delivering` keeps its ring at
  // the fill target, as a punctual worker does; returns what they allocated.
  Counts steady_callbacks(int calls, const std::vector<std::uint32_t>& delivering) {
    Counts total;
    for (int call = 0; call < calls; ++call) {
      const std::uint32_t frames = kCallbackFrames[call % std::size(kCallbackFrames)];
      total += callback(frames);
      for (std::uint32_t w : delivering) {
        const std::uint64_t filled = segment_->ring(w).filled_frames_for_producer();
        if (filled < kFillTargetFrames) {
          deliver(w, static_cast<std::uint32_t>(kFillTargetFrames - filled));
        }
      }
    }
    return total;
  }

  WorkerSlot& slot(std::uint32_t worker) { return segment_->slot(worker); }
  void request(std::uint32_t worker, RequestedState state) {
    // As the control thread: release pairs with the mixer's acquire.
    slot(worker).requested_state.store(static_cast<std::uint32_t>(state),
                                       std::memory_order_release);
  }

  std::optional<Segment> segment_;
  std::unique_ptr<Mixer> mixer_;
  std::vector<float> out_;
  std::vector<float> block_;
  std::uint64_t phase_ = 0;
  int counted_callbacks_ = 0;
};

const std::vector<std::uint32_t> kAllWorkers{0, 1, 2};

// The test can fail: an allocation (or a free) inside the counted region is seen, whichever
// function makes it.
TEST_P(MixerUnderCount, SeesAnAllocationInsideTheCountedRegion) {
  const Counts by_new = counted([] {
    auto* values = new std::vector<float>(64);
    escape(values);
    delete values;
  });
  EXPECT_EQ(by_new.operator_new, 2u);  // the vector object and its buffer
  EXPECT_EQ(by_new.operator_delete, 2u);
  const Counts by_aligned_nothrow = counted([] {
    void* memory = ::operator new (100, std::align_val_t{128}, std::nothrow);
    escape(memory);
    ::operator delete (memory, std::align_val_t{128}, std::nothrow);
  });
  EXPECT_EQ(by_aligned_nothrow.operator_new, 1u);
  EXPECT_EQ(by_aligned_nothrow.operator_delete, 1u);
  if (testing::malloc_is_counted()) {
    const Counts by_malloc = counted([] {
      void* memory = std::malloc(32);
      escape(memory);
      std::free(memory);
      void* aligned = std::aligned_alloc(64, 64);
      escape(aligned);
      std::free(aligned);
    });
    EXPECT_EQ(by_malloc.malloc_family, 2u);
    EXPECT_EQ(by_malloc.free, 2u);
    EXPECT_EQ(by_malloc.operator_new, 0u);
  }
}

TEST_P(MixerUnderCount, SteadyStateCallbacksAllocateNothing) {
  const Counts counts = steady_callbacks(20'000, kAllWorkers);
  report(counts);
  EXPECT_EQ(counts.total(), 0u) << counts;
  // It was the steady state: every worker played, none was ever short.
  for (std::uint32_t w = 0; w < kWorkers; ++w) {
    EXPECT_EQ(mixer_->phase(w), Mixer::Phase::kPlaying);
    EXPECT_EQ(slot(w).underrun_frames.load(), 0u) << "worker " << w;
  }
  EXPECT_EQ(mixer_->stats().calls.load(), 20'000u);
  EXPECT_EQ(mixer_->stats().callback_ns.count.load(), 20'000u) << "one duration per call";
  EXPECT_GT(std::fabs(out_[0]) + std::fabs(out_[1]), 0.0f) << "the mix is silent";
}

// A late worker: silence is played for it, the frames are owed, and when they arrive they are
// dropped. Both paths run in the callback.
TEST_P(MixerUnderCount, CallbacksWithALateWorkerAllocateNothing) {
  Counts counts = steady_callbacks(100, kAllWorkers);
  for (int call = 0; call < 50; ++call) {
    // Worker 1 delivers only a few frames per callback, then nothing at all.
    counts += callback(kBlockFrames);
    deliver(0, kBlockFrames);
    deliver(2, kBlockFrames);
    if (call < 20) deliver(1, 40);
  }
  EXPECT_GT(slot(1).underrun_frames.load(), 0u);
  EXPECT_GT(slot(1).late_blocks.load(), 0u);
  // The late frames arrive: the callbacks drop what is owed and the worker rejoins.
  counts += steady_callbacks(200, kAllWorkers);
  EXPECT_GT(slot(1).discarded_frames.load(), 0u);
  EXPECT_EQ(slot(0).underrun_frames.load(), 0u);
  report(counts);
  EXPECT_EQ(counts.total(), 0u) << counts;
}

// `stop 1` then `play 1`: the fade-out, the stopped phase, the flush of stale frames, the
// resuming phase before the worker renders again, and the per-worker fade-in.
TEST_P(MixerUnderCount, CallbacksThatStopAndResumeAWorkerAllocateNothing) {
  Counts counts = steady_callbacks(100, kAllWorkers);
  request(1, RequestedState::kStop);
  counts += callback(kBlockFrames);
  EXPECT_EQ(mixer_->phase(1), Mixer::Phase::kStopped);
  EXPECT_EQ(slot(1).granted_state.load(), static_cast<std::uint32_t>(GrantedState::kStopped));
  // Stopped: the worker sleeps and writes nothing; its old frames stay in the ring.
  counts += steady_callbacks(100, {0, 2});
  EXPECT_EQ(slot(1).underrun_frames.load(), 0u) << "a stopped worker is not late";

  request(1, RequestedState::kPlay);
  counts += callback(kBlockFrames);
  EXPECT_EQ(mixer_->phase(1), Mixer::Phase::kResuming);
  EXPECT_EQ(slot(1).granted_state.load(), static_cast<std::uint32_t>(GrantedState::kRender));
  EXPECT_EQ(segment_->ring(1).available_frames(), 0u) << "stale frames were not flushed";
  // Resuming, nothing rendered yet: not an underrun either.
  counts += steady_callbacks(5, {0, 2});
  EXPECT_EQ(mixer_->phase(1), Mixer::Phase::kResuming);
  // The worker renders again and fades in.
  counts += steady_callbacks(200, kAllWorkers);
  EXPECT_EQ(mixer_->phase(1), Mixer::Phase::kPlaying);
  EXPECT_EQ(slot(1).underrun_frames.load(), 0u);

  report(counts);
  EXPECT_EQ(counts.total(), 0u) << counts;
}

// A worker that exited, NaN/Inf and huge samples through the master stage, and the fade-out at
// the end of a run.
TEST_P(MixerUnderCount, CallbacksWithAnExitedWorkerBadSamplesAndTheFadeOutAllocateNothing) {
  Counts counts = steady_callbacks(100, kAllWorkers);
  slot(2).exited.store(1, std::memory_order_release);  // as the control thread after reaping
  counts += steady_callbacks(100, {0, 1});

  // One block of NaN from worker 0, then one of huge values from worker 1 (at the same time a
  // NaN would swallow the huge value).
  deliver(0, kBlockFrames, std::numeric_limits<float>::quiet_NaN());
  deliver(1, kBlockFrames);
  deliver(0, kBlockFrames);
  deliver(1, kBlockFrames, 1e30f);
  counts += steady_callbacks(10, {0, 1});
  EXPECT_GT(mixer_->master().nonfinite_samples(), 0u);
  if (GetParam()) {
    EXPECT_GT(mixer_->master().limited_samples(), 0u);
  }

  mixer_->master().request_fade_out();
  for (int call = 0; call < 100 && !mixer_->master().faded_out(); ++call) {
    counts += steady_callbacks(1, {0, 1});
  }
  EXPECT_TRUE(mixer_->master().faded_out());
  counts += steady_callbacks(10, {0, 1});  // silent after the fade

  report(counts);
  EXPECT_EQ(counts.total(), 0u) << counts;
}

// A tap that only counts: calls, frames, and an order-sensitive hash of every sample's bits
// (FNV-1a), so that the test can tell it saw exactly what the output got, in order.
class CountingTap final : public MixTap {
 public:
  void on_mixed(const float* interleaved, std::uint32_t frames) noexcept override {
    ++calls;
    total_frames += frames;
    hash = hash_samples(hash, interleaved, std::size_t{frames} * kChannels);
  }
  static std::uint64_t hash_samples(std::uint64_t hash, const float* samples,
                                    std::size_t count) noexcept {
    for (std::size_t i = 0; i < count; ++i) {
      std::uint32_t bits;
      std::memcpy(&bits, &samples[i], sizeof bits);
      hash = (hash ^ bits) * 1099511628211ull;
    }
    return hash;
  }
  static constexpr std::uint64_t kEmptyHash = 14695981039346656037ull;

  std::uint64_t calls = 0;
  std::uint64_t total_frames = 0;
  std::uint64_t hash = kEmptyHash;
};

// What the control thread does during a run: `gain` commands now and then, while a recorder
// hangs on the tap and the status line reads the histogram. The gain changes, some of them
// in the middle of a ramp, run in the callback as ramps.
TEST_P(MixerUnderCount, CallbacksWithGainChangesATapAndTheHistogramAllocateNothing) {
  CountingTap tap;
  mixer_->set_tap(&tap);  // before the first callback, as the coordinator does
  EXPECT_FALSE(mixer_->output_thread()) << "no callback has run yet";

  constexpr int kCalls = 6'000;
  constexpr double kGainsDb[] = {-6.0, 3.0, -20.0, 0.0, -120.0, 24.0, 0.0};
  std::uint64_t expected_frames = 0;
  std::uint64_t expected_hash = CountingTap::kEmptyHash;
  bool sample_changed_by_gain = false;
  Counts counts;
  for (int call = 0; call < kCalls; ++call) {
    // Every 7 calls: often enough that some changes land inside a running ramp (10 ms is
    // about 2 calls of 256 frames, 7 calls of odd sizes may be shorter).
    if (call % 7 == 3) mixer_->master().set_gain_db(kGainsDb[(call / 7) % std::size(kGainsDb)]);
    const std::uint32_t frames = kCallbackFrames[call % std::size(kCallbackFrames)];
    counts += callback(frames);
    expected_frames += frames;
    expected_hash =
        CountingTap::hash_samples(expected_hash, out_.data(), std::size_t{frames} * kChannels);
    if (mixer_->master().gain_db() == 24.0 && std::fabs(out_[0]) > 0.05f) {
      sample_changed_by_gain = true;  // the sine's peak is 0.03 at 0 dB
    }
    for (std::uint32_t w : kAllWorkers) {
      const std::uint64_t filled = segment_->ring(w).filled_frames_for_producer();
      if (filled < kFillTargetFrames) {
        deliver(w, static_cast<std::uint32_t>(kFillTargetFrames - filled));
      }
    }
  }
  report(counts);
  EXPECT_EQ(counts.total(), 0u) << counts;

  // The tap saw every call, every frame, every sample's bits, in the order the output got them.
  EXPECT_EQ(tap.calls, static_cast<std::uint64_t>(kCalls));
  EXPECT_EQ(tap.total_frames, expected_frames);
  EXPECT_EQ(tap.hash, expected_hash);
  EXPECT_TRUE(sample_changed_by_gain) << "the gain commands did not reach the output";

  // One duration per call.
  const MixerStats& stats = mixer_->stats();
  const DurationSummary durations = DurationSummary::read(stats.callback_ns);
  EXPECT_EQ(durations.count, stats.calls.load());
  EXPECT_EQ(durations.count, static_cast<std::uint64_t>(kCalls));
  EXPECT_LE(durations.max_ns, durations.total_ns);

  // The output thread is this one, the test's, which made every call.
  const std::optional<pthread_t> output = mixer_->output_thread();
  ASSERT_TRUE(output);
  EXPECT_TRUE(pthread_equal(*output, pthread_self()));
}

// With a waker (live outputs), the callback notifies one thread and that thread wakes each worker
// that sleeps on a full ring; nothing in the callback allocates, and no worker is left asleep
// (a lost wake would cost underruns).
TEST_P(MixerUnderCount, WithAWakerSleepingWorkersAreWokenAndCallbacksAllocateNothing) {
  WorkerWaker waker(*segment_, ThreadScheduling{}, 0);
  mixer_->set_waker(&waker);
  // Worker 1, as the render loop does: sleep until its ring has room for another block.
  std::atomic<int> wakes{0};
  std::atomic<bool> done{false};
  // Allocated here: the allocation counter counts every thread.
  const std::vector<float> own_block(std::size_t{kFillTargetFrames} * kChannels, 0.001f);
  std::thread worker([&] {
    SpscRing ring = segment_->ring(1);
    while (!done.load()) {
      const bool room = sleep_until_ready(
          slot(1).space_ready,
          [&] { return done.load() || ring.filled_frames_for_producer() < kFillTargetFrames; },
          std::chrono::seconds(30));
      if (done.load()) break;
      // A wake without room is allowed (the waker wakes every sleeper it finds; the render loop
      // rechecks too): sleep again. A lost wake shows below as underruns.
      if (!room) continue;
      wakes.fetch_add(1);
      // Refill to the target, as the worker would (only this thread writes worker 1's ring,
      // from its own block: deliver() shares the fixture's with the main thread).
      const auto filled = static_cast<std::uint32_t>(ring.filled_frames_for_producer());
      if (filled < kFillTargetFrames) ring.write(own_block.data(), kFillTargetFrames - filled);
    }
  });
  Counts counts;
  for (int call = 0; call < 200; ++call) {
    counts += callback(kBlockFrames);
    for (std::uint32_t w : {0u, 2u}) {
      const std::uint64_t filled = segment_->ring(w).filled_frames_for_producer();
      if (filled < kFillTargetFrames) {
        deliver(w, static_cast<std::uint32_t>(kFillTargetFrames - filled));
      }
    }
    // Give the sleeping worker its turn before the next callback, as a period would; a worker
    // that was not woken leaves its ring short and shows as underruns below.
    for (int i = 0; i < 1000 && segment_->ring(1).available_frames() < kFillTargetFrames; ++i) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
  done.store(true);
  wake_always(slot(1).space_ready);
  worker.join();
  mixer_->set_waker(nullptr);
  report(counts);
  EXPECT_EQ(counts.total(), 0u) << counts;
  EXPECT_GE(wakes.load(), 150) << "the sleeping worker was rarely woken";
  EXPECT_EQ(slot(1).underrun_frames.load(), 0u) << "a wake was lost";
}

// `stop` and `play` change a worker's grant inside the callback; with a waker the worker is woken
// by the waker thread, not by a futex syscall from the callback (issue 12 item 4). A worker
// sleeping on its stop grant must wake once `play` reaches the mixer: a lost wake leaves it
// asleep for its whole 30 s timeout, and the test sees it never resume.
TEST_P(MixerUnderCount, WithAWakerAStoppedWorkerIsWokenByPlay) {
  WorkerWaker waker(*segment_, ThreadScheduling{}, 0);
  mixer_->set_waker(&waker);
  Counts counts = steady_callbacks(20, kAllWorkers);
  request(1, RequestedState::kStop);
  counts += callback(kBlockFrames);
  ASSERT_EQ(slot(1).granted_state.load(), static_cast<std::uint32_t>(GrantedState::kStopped));
  std::atomic<bool> resumed{false};
  std::thread worker([&] {
    // As the render loop: a stopped worker sleeps until the mixer grants rendering again,
    // sleeping again after a spurious return (the waker's wake of the `stop` itself is one).
    const auto granted = [&] {
      return slot(1).granted_state.load(std::memory_order_acquire) ==
             static_cast<std::uint32_t>(GrantedState::kRender);
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!granted() && std::chrono::steady_clock::now() < deadline) {
      sleep_until_ready(slot(1).space_ready, granted, std::chrono::seconds(30));
    }
    resumed.store(granted());
  });
  // Let the waker's wake for the `stop` pass, then `play` while the worker sleeps (if it is
  // awake instead, it sees the grant itself and the test proves less, but never fails wrongly).
  for (int i = 0; i < 2; ++i) {
    while (slot(1).space_ready.waiting.load() == 0) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  request(1, RequestedState::kPlay);
  // Not counted: the allocation counter counts every thread, and the worker thread's end frees
  // its state while this call may run.
  mixer_->mix(out_.data(), kBlockFrames);
  worker.join();
  mixer_->set_waker(nullptr);
  report(counts);
  EXPECT_TRUE(resumed.load()) << "the stopped worker was not woken by `play`";
  EXPECT_EQ(counts.total(), 0u) << counts;
}

TEST(MallocCounting, IsActiveInThisBuild) {
  if (!testing::malloc_is_counted()) {
    GTEST_SKIP() << "sanitizer build: malloc belongs to the sanitizer's runtime; only operator "
                    "new/delete are counted";
  }
  const Counts counts = counted([] {
    char* text = strdup("C code allocates with malloc");
    escape(text);
    std::free(text);
  });
  EXPECT_EQ(counts.malloc_family, 1u);
  EXPECT_EQ(counts.free, 1u);
}

// Device (limited to ±1) and file (unclipped): the two master-stage configurations.
INSTANTIATE_TEST_SUITE_P(DeviceAndFile, MixerUnderCount, ::testing::Bool(),
                         [](const auto& param_info) {
                           return std::string(param_info.param ? "device" : "file");
                         });

}  // namespace
}  // namespace synthfarm
