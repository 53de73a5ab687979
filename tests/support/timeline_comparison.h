#pragma once
// How a capture of a real-time run lines up with offline renders of the same configuration: the
// oracle of the JACK test (tests/process/jack_output_test.cpp), on plain sample arrays, so that
// its own test (tests/unit/timeline_comparison_test.cpp) needs no audio server or library.
//
// A captured block is one server cycle, which carries one synthfarm buffer: frames t to t + B of
// synthfarm's timeline, t a multiple of B. Each of its frames must be bit for bit the full sum
// at t, or one worker's part alone (the other underran), or silence (all underran): synthfarm
// plays nothing else, and it never plays late audio, which would leave a worker behind the
// others.
//
// Consecutive blocks carry consecutive buffers, with one exception that is the server's, not
// synthfarm's: when a client misses its cycle, jackd (asynchronous mode, default timeout) starts
// the next one without waiting, and the capture can then see synthfarm's buffer twice or miss
// some, or even read it while synthfarm writes it (RtAudio copies one channel after the other),
// getting samples of two consecutive buffers. Such a jump or torn block is accepted only within
// kXrunWindowCycles of an xrun that the server reported; anywhere else, synthfarm's own timeline
// slipped.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace synthfarm::testing {

// Interleaved float32 frames that the caller owns: a capture or a render.
struct FrameView {
  std::span<const float> samples;
  std::uint32_t channels = 0;
  std::uint64_t frames() const { return channels ? samples.size() / channels : 0; }
  float at(std::uint64_t frame, std::uint32_t channel) const {
    return samples[frame * channels + channel];
  }
};

class TimelineComparison {
 public:
  static constexpr std::uint64_t kMaxJumpBlocks = 64;  // how far a server's skip may reach
  // Measured over many loaded runs of jackd: the capture client hears of the xrun 2 cycles
  // before to 1 cycle after it sees the jump.
  static constexpr std::uint64_t kXrunWindowCycles = 8;

  struct Input {
    FrameView capture;  // block after block from some cycle on; silent blocks before the run
    // Every xrun the server reported, as the capture frame at which the capture first knew of
    // it: the first frame of the first cycle that began after the report (0 for one reported
    // before the capture began, the capture's length for one after its last cycle began).
    std::vector<std::uint64_t> xrun_frames;
    FrameView full;                // the offline render of the whole mix, from timeline frame 0
    std::vector<FrameView> alone;  // each worker's part rendered alone, likewise
    std::uint32_t block_frames = 0;
    std::uint64_t run_frames = 0;  // the real-time run's length, from where it fades out
    // Capture frames in [set_aside_begin, set_aside_end) are tallied apart (a stall caused on
    // purpose).
    std::uint64_t set_aside_begin = 0;
    std::uint64_t set_aside_end = 0;
  };

  struct Tally {
    std::uint64_t full = 0;        // the full sum
    std::uint64_t one_worker = 0;  // one worker's part alone
    std::uint64_t silent = 0;
    std::uint64_t torn = 0;   // frames of blocks read while synthfarm wrote them
    std::uint64_t wrong = 0;  // frames of blocks that fit nowhere
    std::uint64_t total() const { return full + one_worker + silent + torn + wrong; }
  };
  struct Jump {
    std::uint64_t capture_frame;
    std::uint64_t from_position;  // where the timeline would have continued
    std::uint64_t to_position;    // where it did
    bool torn;                    // samples of to_position - B and to_position mixed
  };

  // Compares at once. The capture and the renders must outlive the comparison (describe()
  // reads them again). Every view must have the capture's channel count.
  explicit TimelineComparison(Input input);

  bool found() const { return first_block_.has_value(); }
  std::uint64_t first_capture_frame() const { return first_block_.value_or(0); }
  std::uint64_t first_position() const { return first_position_; }
  std::uint64_t compared_frames() const { return first_block_ ? compared_end_ - *first_block_ : 0; }
  const Tally& outside() const { return outside_; }
  const Tally& set_aside() const { return set_aside_; }
  std::uint64_t wrong_frames() const { return outside_.wrong + set_aside_.wrong; }
  const std::vector<Jump>& jumps() const { return jumps_; }
  const std::vector<Jump>& unexplained_jumps() const { return unexplained_jumps_; }

  // What was found, for a failure message: tallies, jumps, the first wrong block.
  std::string describe(std::uint32_t rate_hz) const;

 private:
  enum class FrameKind { kFull, kOneWorker, kSilent, kWrong };

  FrameKind frame_kind(std::uint64_t i, std::uint64_t t) const;
  bool silent_block(std::uint64_t i) const;
  bool exact_block(std::uint64_t i, std::uint64_t t) const;
  bool consistent_block(std::uint64_t i, std::uint64_t t) const;
  std::optional<std::uint64_t> find_jump(std::uint64_t i, std::uint64_t t) const;
  bool sample_fits(std::uint64_t i, std::uint64_t n, std::uint32_t c, std::uint64_t t) const;
  std::optional<std::uint64_t> find_torn(std::uint64_t i, std::uint64_t t) const;
  void note_jump(const Jump& jump);
  bool xrun_near(std::uint64_t i) const;
  Tally& tally(std::uint64_t i);
  void tally_block(std::uint64_t i, std::uint64_t t);

  Input in_;
  std::uint64_t block_;
  std::optional<std::uint64_t> first_block_;  // capture frame of the first block found
  std::uint64_t first_position_ = 0;          // its timeline frame
  std::uint64_t compared_end_ = 0;            // capture frame after the last block compared
  Tally outside_;
  Tally set_aside_;
  std::optional<std::uint64_t> first_wrong_frame_;
  std::uint64_t first_wrong_position_ = 0;
  std::vector<Jump> jumps_;
  std::vector<Jump> unexplained_jumps_;
};

}  // namespace synthfarm::testing
