// Mixer::mix frame by frame, on hand-filled rings: the test is both workers (it writes their
// rings) and the control thread (it sets their requests), and compares every output sample with
// what the common timeline promises (coordinator/mix/mixer.h):
// - a late worker's missing frames are silence, counted (underrun frames, late blocks) and owed;
// - owed frames are dropped when they arrive, counted (discarded frames), and exactly as many as
//   are owed: the worker rejoins the timeline and late audio is never played;
// - each worker's timeline position, published for the worker to render up to;
// - `stop` fades out over the next call and `play` fades in over 5 ms, at call boundaries.
//
// Exactness: at kSampleRateHz the 5 ms fades are 8 frames, and the stop calls hold 16 or 8
// frames, so every gain is a multiple of 1/16, exact in float32, as are the samples (integers
// below 2^16), their products and their sums. The expected output is computed in double, in
// whatever order is clearest, and is still exact: samples are compared bit for bit (tolerance
// 0). The expected fades are written from their definitions, not from the mixer's arithmetic.
#include "coordinator/mix/mixer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "shared/segment.h"
#include "tests/support/in_process_segment.h"

namespace synthfarm {
namespace {

constexpr std::uint32_t kWorkers = 2;
constexpr std::uint32_t kChannels = 2;
constexpr std::uint32_t kSampleRateHz = 1600;
constexpr std::uint32_t kFadeFrames = 8;  // 5 ms at kSampleRateHz
constexpr std::uint32_t kRingFrames = 64;
constexpr std::uint32_t kCall = 16;  // the usual device buffer of these tests

// What worker `w` renders at its own frame position `p` (frames it has ever written), channel
// `c`: an integer that names all three, so that a failure message says whose frame was played.
// Worker 0's are 10000 + 2p + c, worker 1's 20000 + 2p + c; a sum of both is 30000 or more.
double rendered(std::uint32_t w, std::uint64_t p, std::uint32_t c) {
  return (w + 1) * 10000.0 + 2.0 * static_cast<double>(p) + c;
}

std::string describe(float value) {
  std::ostringstream text;
  text << value;
  const double v = value;
  if (v == 0.0) return "0 (silence)";
  if (v == std::floor(v) && v >= 10000.0 && v < 30000.0) {
    const auto integer = static_cast<std::uint64_t>(v);
    const std::uint64_t w = integer / 10000 - 1;
    const std::uint64_t rest = integer % 10000;
    text << " (worker " << w << "'s frame " << rest / 2 << " alone)";
  }
  return text.str();
}

using Gain = std::function<double(std::uint32_t n)>;  // n: frames from the stretch's start

double unity(std::uint32_t) {
  return 1.0;
}

// `play`: a linear ramp over the 5 ms fade, kFadeFrames frames: the k-th frame the worker plays
// after `play` (k from 1) has gain k / kFadeFrames, reaching 1 at the last frame of the fade.
// `played_before`: frames of the fade already played in earlier calls.
Gain fade_in(std::uint32_t played_before) {
  return [played_before](std::uint32_t n) {
    return std::min(1.0, (played_before + n + 1.0) / kFadeFrames);
  };
}

// `stop`: a linear ramp to silence over the N frames the stop call plays of the worker (what its
// ring holds, at most the call's frames): frame n (from 0) has gain (N - 1 - n) / N, so the
// last one is 0.
Gain fade_out(std::uint32_t frames) {
  return [frames](std::uint32_t n) { return (frames - 1.0 - n) / frames; };
}

// The output a call must produce: a sum of stretches of the workers' rendered frames, each with
// its gains, silence elsewhere.
class Expected {
 public:
  explicit Expected(std::uint32_t frames) : samples_(std::size_t{frames} * kChannels, 0.0) {}

  // Worker `w`'s frames from its position `from` on, `count` of them, at output frames `at`
  // on, frame n of the stretch times gain(n).
  Expected& add(std::uint32_t w, std::uint64_t from, std::uint32_t count, std::uint32_t at = 0,
                const Gain& gain = unity) {
    for (std::uint32_t n = 0; n < count; ++n) {
      for (std::uint32_t c = 0; c < kChannels; ++c) {
        samples_.at(std::size_t{at + n} * kChannels + c) += rendered(w, from + n, c) * gain(n);
      }
    }
    return *this;
  }

  // Every output frame n times gain(n) (the master stage's fade-in).
  Expected& scale(const Gain& gain) {
    for (std::size_t i = 0; i < samples_.size(); ++i) {
      samples_[i] *= gain(static_cast<std::uint32_t>(i / kChannels));
    }
    return *this;
  }

  const std::vector<double>& samples() const { return samples_; }

 private:
  std::vector<double> samples_;
};

// Bit for bit: every sample of `actual` is `expected`'s, exactly representable in float32.
::testing::AssertionResult SameFrames(const std::vector<float>& actual, const Expected& expected) {
  const std::vector<double>& want = expected.samples();
  if (actual.size() != want.size()) {
    return ::testing::AssertionFailure()
           << "the output holds " << actual.size() << " samples, not " << want.size();
  }
  std::size_t wrong = 0;
  std::ostringstream first;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const auto exact = static_cast<float>(want[i]);
    if (static_cast<double>(exact) != want[i]) {
      return ::testing::AssertionFailure()
             << "the test's own expectation " << want[i] << " at sample " << i
             << " is not a float32: choose exact gains and samples";
    }
    if (actual[i] == exact && std::signbit(actual[i]) == std::signbit(exact)) continue;
    if (wrong++ < 4) {
      first << "\n  frame " << i / kChannels << " channel " << i % kChannels << ": "
            << describe(actual[i]) << ", expected " << describe(exact);
    }
  }
  if (wrong == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << wrong << " of " << actual.size() << " samples differ, the first:" << first.str();
}

// A worker's positions and counters as the mixer leaves them in its slot.
struct Account {
  std::uint64_t read_pos;
  std::uint64_t timeline_pos;
  std::uint64_t underrun_frames;
  std::uint64_t late_blocks;
  std::uint64_t discarded_frames;
  bool operator==(const Account&) const = default;
};

void PrintTo(const Account& a, std::ostream* out) {
  *out << "{read_pos " << a.read_pos << ", timeline_pos " << a.timeline_pos << ", underrun_frames "
       << a.underrun_frames << ", late_blocks " << a.late_blocks << ", discarded_frames "
       << a.discarded_frames << "}";
}

class MixerTimeline : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    segment_ = testing::create_in_process_segment(
        "mixer", {kWorkers, kChannels, kRingFrames, kSampleRateHz, kCall, 2 * kCall}, error);
    ASSERT_TRUE(segment_) << error;
    // The file configuration (no limit to ±1), so that the samples can be readable integers.
    mixer_ = std::make_unique<Mixer>(*segment_, /*limit_output=*/false);
    ASSERT_EQ(mixer_->master().fade_frames(), kFadeFrames)
        << "the test's sample rate no longer gives 8-frame fades; its exactness relies on it";
  }

  // The run's first call: both workers have filled the call, and the master stage's fade-in
  // (pyo's: the gain accumulates 1/T per frame from the first frame on, T = kFadeFrames, then
  // stays at its sum, exactly 1 here) opens the output. The workers themselves do not fade in.
  void start() {
    deliver(0, kCall);
    deliver(1, kCall);
    const std::vector<float> out = mix(kCall);
    EXPECT_TRUE(SameFrames(
        out, Expected(kCall).add(0, 0, kCall).add(1, 0, kCall).scale([](std::uint32_t n) {
          return std::min(1.0, (n + 1.0) / kFadeFrames);
        })))
        << "the run's first call";
  }

  // Worker `w` writes its next `frames` rendered frames, from its own position on.
  void deliver(std::uint32_t w, std::uint32_t frames) {
    SpscRing ring = segment_->ring(w);
    ASSERT_LE(frames, ring.free_frames()) << "the test overfilled worker " << w << "'s ring";
    const std::uint64_t from = slot(w).write_pos.load();
    std::vector<float> block(std::size_t{frames} * kChannels);
    for (std::uint32_t n = 0; n < frames; ++n) {
      for (std::uint32_t c = 0; c < kChannels; ++c) {
        block[std::size_t{n} * kChannels + c] = static_cast<float>(rendered(w, from + n, c));
      }
    }
    ring.write(block.data(), frames);
  }

  // One output call of `frames` frames.
  std::vector<float> mix(std::uint32_t frames) {
    std::vector<float> out(std::size_t{frames} * kChannels, -1.0f);  // not silence: must be set
    mixer_->mix(out.data(), frames);
    return out;
  }

  // As the control thread: release pairs with the mixer's acquire.
  void request(std::uint32_t w, RequestedState state) {
    slot(w).requested_state.store(static_cast<std::uint32_t>(state), std::memory_order_release);
  }

  WorkerSlot& slot(std::uint32_t w) { return segment_->slot(w); }
  std::uint64_t timeline() const { return mixer_->stats().frames.load(); }
  std::uint64_t available(std::uint32_t w) const { return segment_->ring(w).available_frames(); }

  Account account(std::uint32_t w) {
    const WorkerSlot& s = slot(w);
    return {s.read_pos.load(), s.timeline_pos.load(), s.underrun_frames.load(),
            s.late_blocks.load(), s.discarded_frames.load()};
  }

  std::optional<Segment> segment_;
  std::unique_ptr<Mixer> mixer_;
};

TEST_F(MixerTimeline, TheRunOpensWithPyosFadeInAndNoFadeOfItsOwnPerWorker) {
  start();  // compares the first call with the master fade-in alone
  EXPECT_EQ(timeline(), kCall);
  EXPECT_EQ(mixer_->stats().calls.load(), 1u);
  for (std::uint32_t w = 0; w < kWorkers; ++w) {
    EXPECT_EQ(account(w), (Account{kCall, kCall, 0, 0, 0})) << "worker " << w;
    EXPECT_EQ(mixer_->phase(w), Mixer::Phase::kPlaying);
  }
}

// Call sizes that divide nothing, so that reads cross the ring's end in two pieces; each worker
// keeps a call ahead, and the mixer takes exactly what each call needs.
TEST_F(MixerTimeline, PunctualWorkersAreSummedFrameForFrameAcrossTheRingsEnd) {
  start();
  for (const std::uint32_t frames : {16u, 5u, 11u, 32u, 1u, 13u, 16u, 7u, 29u, 3u}) {
    const std::uint64_t t = timeline();
    for (std::uint32_t w = 0; w < kWorkers; ++w) {
      deliver(w, static_cast<std::uint32_t>(t + frames + kCall - slot(w).write_pos.load()));
    }
    EXPECT_TRUE(SameFrames(mix(frames), Expected(frames).add(0, t, frames).add(1, t, frames)))
        << "the call of " << frames << " frames at timeline frame " << t;
    for (std::uint32_t w = 0; w < kWorkers; ++w) {
      EXPECT_EQ(account(w), (Account{t + frames, t + frames, 0, 0, 0})) << "worker " << w;
      EXPECT_EQ(available(w), kCall) << "worker " << w << "'s frames ahead were taken";
    }
  }
  EXPECT_GT(timeline(), 2 * kRingFrames) << "the rings must wrap";
}

TEST_F(MixerTimeline, ALateWorkersMissingFramesAreSilenceCountedAndOwed) {
  start();
  const std::uint64_t t = timeline();
  deliver(0, kCall);
  deliver(1, 5);
  EXPECT_TRUE(SameFrames(mix(kCall), Expected(kCall).add(0, t, kCall).add(1, t, 5)));
  // 11 frames of silence for worker 1, owed: its timeline position is 11 past what it gave.
  EXPECT_EQ(account(1), (Account{t + 5, t + kCall, 11, 1, 0}));
  EXPECT_EQ(account(0), (Account{t + kCall, t + kCall, 0, 0, 0})) << "worker 0 was on time";
  EXPECT_EQ(mixer_->phase(1), Mixer::Phase::kPlaying) << "a late worker plays on";
}

TEST_F(MixerTimeline, OwedFramesAreDroppedOnArrivalSoLateAudioIsNeverPlayed) {
  start();
  const std::uint64_t t = timeline();
  deliver(0, kCall);
  deliver(1, 5);
  mix(kCall);  // worker 1 is 11 frames late
  // Its 11 late frames arrive with the next call's: the late ones are dropped, and worker 1's
  // frame t + 16 plays at timeline frame t + 16, in step with worker 0's.
  deliver(0, kCall);
  deliver(1, 11 + kCall);
  EXPECT_TRUE(
      SameFrames(mix(kCall), Expected(kCall).add(0, t + kCall, kCall).add(1, t + kCall, kCall)));
  EXPECT_EQ(account(1), (Account{t + 2 * kCall, t + 2 * kCall, 11, 1, 11}));
  // And it stays in step.
  deliver(0, kCall);
  deliver(1, kCall);
  EXPECT_TRUE(SameFrames(
      mix(kCall), Expected(kCall).add(0, t + 2 * kCall, kCall).add(1, t + 2 * kCall, kCall)));
  EXPECT_EQ(account(1), (Account{t + 3 * kCall, t + 3 * kCall, 11, 1, 11}));
}

// Worker 1 misses a call, then pays back what it owes in pieces that do not match the calls:
// some owed frames with nothing else, more owed frames than the call, owed frames plus more
// than the call. Every owed frame is dropped, and no other.
TEST_F(MixerTimeline, OwedFramesArePaidBackExactlyNoMoreNoLess) {
  start();
  const std::uint64_t t = timeline();
  struct Step {
    std::uint32_t delivered;  // frames worker 1 writes before the call
    std::uint32_t played;     // of the call's frames, the first this many are worker 1's
    Account after;            // positions relative to t
  };
  const Step steps[] = {
      // Nothing: 16 owed.
      {0, 0, {0, 16, 16, 1, 0}},
      // 6 late frames, all dropped; 10 still owed, and 16 more.
      {6, 0, {6, 32, 32, 2, 6}},
      // 26 owed frames and 7 on time: the 26 dropped, the 7 played, 9 more owed.
      {33, 7, {39, 48, 41, 3, 32}},
      // 9 owed, 16 on time, 8 ahead: the 9 dropped, the 16 played, the 8 kept.
      {33, 16, {64, 64, 41, 3, 41}},
      // The 8 kept and 8 more: played, nothing dropped.
      {8, 16, {80, 80, 41, 3, 41}},
  };
  for (std::size_t i = 0; i < std::size(steps); ++i) {
    const Step& step = steps[i];
    const std::uint64_t now = timeline();
    deliver(0, kCall);
    deliver(1, step.delivered);
    EXPECT_TRUE(SameFrames(mix(kCall), Expected(kCall).add(0, now, kCall).add(1, now, step.played)))
        << "step " << i;
    const Account& a = step.after;
    EXPECT_EQ(account(1), (Account{t + a.read_pos, t + a.timeline_pos, a.underrun_frames,
                                   a.late_blocks, a.discarded_frames}))
        << "step " << i;
  }
  EXPECT_EQ(slot(1).discarded_frames.load(), slot(1).underrun_frames.load())
      << "every frame of silence played for worker 1 was paid back by one frame dropped";
  EXPECT_EQ(available(1), 0u);
}

// The timeline as a rule, over many calls of an erratic worker 1 (late, on time, far ahead, by
// turns): its frame p plays at timeline frame p if it was written by the call that plays p, and
// is dropped otherwise; the call's other frames are its silence, counted. This is what a worker
// that has played since the start sees, stated without the mixer's own bookkeeping.
TEST_F(MixerTimeline, AWorkersFramePPlaysAtTimelineFramePOrNever) {
  start();
  const std::uint32_t call_frames[] = {16, 16, 7, 16, 33, 16, 1, 16, 24, 16, 9, 16};
  const std::uint32_t deliveries[] = {0, 3, 40, 0, 0, 16, 61, 2, 0, 0, 11, 30, 5, 0, 48};
  std::uint64_t underrun = 0;
  std::uint64_t late_blocks = 0;
  std::uint64_t discarded = 0;
  std::uint64_t read = slot(1).read_pos.load();
  for (int call = 0; call < 120; ++call) {
    const std::uint32_t frames = call_frames[call % std::size(call_frames)];
    const std::uint64_t t = timeline();
    deliver(0, static_cast<std::uint32_t>(t + frames - slot(0).write_pos.load()));
    const auto room = static_cast<std::uint32_t>(segment_->ring(1).free_frames());
    deliver(1, std::min(deliveries[call % std::size(deliveries)], room));

    const std::uint64_t written = slot(1).write_pos.load();
    const std::uint64_t dropped = std::min(written, t) > read ? std::min(written, t) - read : 0;
    const std::uint64_t played = written > t ? std::min<std::uint64_t>(written - t, frames) : 0;
    EXPECT_TRUE(SameFrames(
        mix(frames),
        Expected(frames).add(0, t, frames).add(1, t, static_cast<std::uint32_t>(played))))
        << "call " << call << " at timeline frame " << t << ", worker 1 had written " << written;
    discarded += dropped;
    underrun += frames - played;
    late_blocks += played < frames;
    read = std::min(written, t + frames);
    ASSERT_EQ(account(1), (Account{read, t + frames, underrun, late_blocks, discarded}))
        << "call " << call;
  }
  EXPECT_GT(discarded, 100u) << "the pattern must make worker 1 late often";
  EXPECT_GT(timeline(), 10 * kRingFrames);
  EXPECT_EQ(account(0), (Account{timeline(), timeline(), 0, 0, 0}));
}

TEST_F(MixerTimeline, StopFadesOutOverTheNextCallThenTheWorkerIsSilentAndNotLate) {
  start();
  const std::uint64_t t = timeline();
  deliver(0, kCall);
  deliver(1, 3 * kCall);  // two calls ahead
  EXPECT_TRUE(SameFrames(mix(kCall), Expected(kCall).add(0, t, kCall).add(1, t, kCall)))
      << "the call before the request plays as usual";
  request(1, RequestedState::kStop);  // between two calls
  deliver(0, kCall);
  EXPECT_TRUE(SameFrames(
      mix(kCall),
      Expected(kCall).add(0, t + kCall, kCall).add(1, t + kCall, kCall, 0, fade_out(kCall))));
  EXPECT_EQ(mixer_->phase(1), Mixer::Phase::kStopped);
  EXPECT_EQ(slot(1).granted_state.load(), static_cast<std::uint32_t>(GrantedState::kStopped))
      << "the worker is told to stop rendering";
  // Stopped: silent, never late, and what its ring still holds is left there.
  for (int call = 0; call < 3; ++call) {
    const std::uint64_t now = timeline();
    deliver(0, kCall);
    EXPECT_TRUE(SameFrames(mix(kCall), Expected(kCall).add(0, now, kCall))) << "call " << call;
  }
  EXPECT_EQ(available(1), kCall);
  const Account after = account(1);
  EXPECT_EQ(after.read_pos, t + 2 * kCall);
  EXPECT_EQ(after.underrun_frames, 0u);
  EXPECT_EQ(after.late_blocks, 0u);
  EXPECT_EQ(after.discarded_frames, 0u);
}

TEST_F(MixerTimeline, StopWithFewerFramesThanTheCallFadesOutOverWhatTheRingHolds) {
  start();
  const std::uint64_t t = timeline();
  deliver(0, kCall);
  deliver(1, 8);
  request(1, RequestedState::kStop);
  EXPECT_TRUE(
      SameFrames(mix(kCall), Expected(kCall).add(0, t, kCall).add(1, t, 8, 0, fade_out(8))));
  EXPECT_EQ(mixer_->phase(1), Mixer::Phase::kStopped);
  EXPECT_EQ(slot(1).underrun_frames.load(), 0u) << "the rest of a stop call is not an underrun";
  EXPECT_EQ(slot(1).late_blocks.load(), 0u);
}

TEST_F(MixerTimeline, PlayDropsWhatWasLeftFromBeforeTheStopAndFadesInOver5Ms) {
  start();
  std::uint64_t t = timeline();
  deliver(0, kCall);
  deliver(1, 3 * kCall);
  request(1, RequestedState::kStop);
  mix(kCall);  // the fade-out; 32 frames are left from before the stop
  deliver(0, kCall);
  mix(kCall);
  ASSERT_EQ(mixer_->phase(1), Mixer::Phase::kStopped);
  ASSERT_EQ(available(1), 2 * kCall);

  request(1, RequestedState::kPlay);
  // The first call after `play` lets the worker render again: nothing of it is played yet, and
  // what it had left is gone (stale audio, from before the stop).
  t = timeline();
  deliver(0, kCall);
  EXPECT_TRUE(SameFrames(mix(kCall), Expected(kCall).add(0, t, kCall)));
  EXPECT_EQ(mixer_->phase(1), Mixer::Phase::kResuming);
  EXPECT_EQ(slot(1).granted_state.load(), static_cast<std::uint32_t>(GrantedState::kRender));
  EXPECT_EQ(available(1), 0u) << "stale frames were not dropped";
  const std::uint64_t resumes_at = slot(1).write_pos.load();
  EXPECT_EQ(slot(1).timeline_pos.load(), resumes_at)
      << "the worker must render from where it stopped writing";
  // Not rendering yet is not being late.
  t = timeline();
  deliver(0, kCall);
  EXPECT_TRUE(SameFrames(mix(kCall), Expected(kCall).add(0, t, kCall)));
  EXPECT_EQ(mixer_->phase(1), Mixer::Phase::kResuming);

  // It renders again and fades in over 8 frames, across two calls of 4, then plays at unity.
  deliver(1, 3 * kCall);
  t = timeline();
  deliver(0, 4);
  EXPECT_TRUE(SameFrames(mix(4), Expected(4).add(0, t, 4).add(1, resumes_at, 4, 0, fade_in(0))));
  EXPECT_EQ(mixer_->phase(1), Mixer::Phase::kPlaying);
  deliver(0, 4);
  EXPECT_TRUE(
      SameFrames(mix(4), Expected(4).add(0, t + 4, 4).add(1, resumes_at + 4, 4, 0, fade_in(4))));
  deliver(0, kCall);
  EXPECT_TRUE(
      SameFrames(mix(kCall), Expected(kCall).add(0, t + 8, kCall).add(1, resumes_at + 8, kCall)));
  const Account after = account(1);
  EXPECT_EQ(after.underrun_frames, 0u);
  EXPECT_EQ(after.late_blocks, 0u);
  EXPECT_EQ(after.read_pos, resumes_at + 8 + kCall);
  EXPECT_EQ(after.timeline_pos, after.read_pos);
}

// `stop` before a resumed worker has been heard again: there is nothing to fade, and nothing of
// what it rendered meanwhile is played.
TEST_F(MixerTimeline, AStopBeforeTheResumedWorkerPlaysSilencesItAtOnce) {
  start();
  request(1, RequestedState::kStop);
  deliver(0, kCall);
  mix(kCall);
  request(1, RequestedState::kPlay);
  deliver(0, kCall);
  mix(kCall);
  ASSERT_EQ(mixer_->phase(1), Mixer::Phase::kResuming);
  request(1, RequestedState::kStop);
  deliver(1, kCall);  // a block it had begun before the stop
  const std::uint64_t t = timeline();
  deliver(0, kCall);
  EXPECT_TRUE(SameFrames(mix(kCall), Expected(kCall).add(0, t, kCall)));
  EXPECT_EQ(mixer_->phase(1), Mixer::Phase::kStopped);
  EXPECT_EQ(slot(1).underrun_frames.load(), 0u);
}

TEST_F(MixerTimeline, AnExitedWorkerIsSilentAndNeverLate) {
  start();
  slot(1).exited.store(1, std::memory_order_release);  // as the control thread after reaping
  deliver(1, kCall);                                   // written before it died
  for (int call = 0; call < 3; ++call) {
    const std::uint64_t t = timeline();
    deliver(0, kCall);
    EXPECT_TRUE(SameFrames(mix(kCall), Expected(kCall).add(0, t, kCall))) << "call " << call;
  }
  EXPECT_EQ(account(1), (Account{kCall, kCall, 0, 0, 0}));
}

// Issue 13 item 8: a late worker that is stopped must not play stale audio. Today the fade-out
// takes the ring's oldest frames, which are the ones it owes (late), instead of dropping them
// first. Enable this test with the fix.
TEST_F(MixerTimeline, StoppingALateWorkerDropsWhatItOwesBeforeTheFadeOut) {
  start();
  const std::uint64_t t = timeline();
  deliver(0, kCall);
  deliver(1, 5);
  mix(kCall);  // worker 1 owes 11 frames
  deliver(0, kCall);
  deliver(1, 11 + kCall);  // the 11 late ones and the 16 on time
  request(1, RequestedState::kStop);
  EXPECT_TRUE(SameFrames(
      mix(kCall),
      Expected(kCall).add(0, t + kCall, kCall).add(1, t + kCall, kCall, 0, fade_out(kCall))))
      << "the fade-out must play the frames on the timeline, not the late ones";
  EXPECT_EQ(slot(1).discarded_frames.load(), 11u) << "the owed frames are dropped and counted";
  EXPECT_EQ(mixer_->phase(1), Mixer::Phase::kStopped);
}

}  // namespace
}  // namespace synthfarm
