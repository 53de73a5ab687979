#include "tests/support/timeline_comparison.h"

#include <algorithm>
#include <cstring>
#include <sstream>
#include <utility>

namespace synthfarm::testing {
namespace {

bool same_bits(float a, float b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

}  // namespace

TimelineComparison::TimelineComparison(Input input)
    : in_(std::move(input)), block_(in_.block_frames) {
  if (block_ == 0 || in_.capture.channels == 0) return;
  const std::uint64_t captured = in_.capture.frames() / block_ * block_;
  std::uint64_t tried = 0;
  for (std::uint64_t i = 0; i < captured && !first_block_ && tried < 20; i += block_) {
    if (silent_block(i)) continue;
    ++tried;
    for (std::uint64_t t = 0; t + block_ <= in_.run_frames; t += block_) {
      if (exact_block(i, t)) {
        first_block_ = i;
        first_position_ = t;
        break;
      }
    }
  }
  if (!first_block_) return;
  std::uint64_t t = first_position_;
  tally_block(*first_block_, t);
  compared_end_ = *first_block_ + block_;
  for (std::uint64_t i = *first_block_ + block_; i < captured; i += block_) {
    const std::uint64_t expected = t + block_;
    if (expected + block_ > in_.run_frames) break;  // from the run's end on, synthfarm fades out
    compared_end_ = i + block_;
    if (consistent_block(i, expected)) {
      t = expected;
      tally_block(i, t);
    } else if (const auto jumped_to = find_jump(i, t)) {
      note_jump({i, expected, *jumped_to, false});
      t = *jumped_to;
      tally_block(i, t);
    } else if (const auto torn_to = find_torn(i, t)) {
      note_jump({i, expected, *torn_to, true});
      t = *torn_to;
      tally(i).torn += block_;
    } else {
      if (!first_wrong_frame_) {
        first_wrong_frame_ = i;
        first_wrong_position_ = expected;
      }
      t = expected;
      tally(i).wrong += block_;
    }
  }
}

std::string TimelineComparison::describe(std::uint32_t rate_hz) const {
  if (!first_block_) return "no captured block occurs in the offline render";
  std::ostringstream text;
  const auto tally = [&](const Tally& counts) {
    text << counts.full << " full sum, " << counts.one_worker << " one worker alone, "
         << counts.silent << " silent, " << counts.torn << " torn, " << counts.wrong << " wrong";
  };
  text << compared_frames() << " frames compared from capture frame " << *first_block_
       << " = timeline frame " << first_position_ << " (";
  tally(outside_);
  text << "; set aside during the stall: ";
  tally(set_aside_);
  text << "); the server reported " << in_.xrun_frames.size() << " xruns; the capture jumped "
       << jumps_.size() << " times";
  if (!jumps_.empty()) {
    // The jumps the server cannot explain first: they are what a failure is about.
    const std::vector<Jump>& shown = unexplained_jumps_.empty() ? jumps_ : unexplained_jumps_;
    text << ", " << unexplained_jumps_.size() << " of them with no xrun within "
         << kXrunWindowCycles << " cycles (";
    for (std::size_t j = 0; j < shown.size() && j < 8; ++j) {
      const auto skipped = (static_cast<std::int64_t>(shown[j].to_position) -
                            static_cast<std::int64_t>(shown[j].from_position)) /
                           static_cast<std::int64_t>(block_);
      text << (j ? ", " : "") << "at " << 1000.0 * shown[j].capture_frame / rate_hz << " ms "
           << (shown[j].torn ? "torn, " : "")
           << (skipped < 0 ? "fell back a buffer"
                           : "skipped " + std::to_string(skipped) + " buffers")
           << (xrun_near(shown[j].capture_frame) ? "" : " with no xrun near");
    }
    text << (shown.size() > 8 ? ", ...)" : ")");
  }
  if (first_wrong_frame_) {
    const std::uint64_t i = *first_wrong_frame_;
    const std::uint64_t t = first_wrong_position_;
    text << "; the first wrong block is capture frame " << i << ", expected at timeline frame " << t
         << ":";
    for (std::uint32_t c = 0; c < in_.capture.channels; ++c) {
      text << " channel " << c << " " << in_.capture.at(i, c) << " (expected " << in_.full.at(t, c)
           << ")";
    }
  }
  return text.str();
}

TimelineComparison::FrameKind TimelineComparison::frame_kind(std::uint64_t i,
                                                             std::uint64_t t) const {
  const auto equals = [&](const FrameView& render) {
    for (std::uint32_t c = 0; c < in_.capture.channels; ++c) {
      if (!same_bits(in_.capture.at(i, c), render.at(t, c))) return false;
    }
    return true;
  };
  if (equals(in_.full)) return FrameKind::kFull;
  bool silent = true;
  for (std::uint32_t c = 0; c < in_.capture.channels; ++c) {
    silent = silent && in_.capture.at(i, c) == 0.0f;
  }
  if (silent) return FrameKind::kSilent;
  if (std::any_of(in_.alone.begin(), in_.alone.end(), equals)) return FrameKind::kOneWorker;
  return FrameKind::kWrong;
}

bool TimelineComparison::silent_block(std::uint64_t i) const {
  for (std::uint64_t n = 0; n < block_; ++n) {
    for (std::uint32_t c = 0; c < in_.capture.channels; ++c) {
      if (in_.capture.at(i + n, c) != 0.0f) return false;
    }
  }
  return true;
}

bool TimelineComparison::exact_block(std::uint64_t i, std::uint64_t t) const {
  for (std::uint64_t n = 0; n < block_; ++n) {
    if (frame_kind(i + n, t + n) != FrameKind::kFull) return false;
  }
  return true;
}

bool TimelineComparison::consistent_block(std::uint64_t i, std::uint64_t t) const {
  for (std::uint64_t n = 0; n < block_; ++n) {
    if (frame_kind(i + n, t + n) == FrameKind::kWrong) return false;
  }
  return true;
}

// Where block `i` sits if the server showed synthfarm's previous buffer (at `t`) again or
// skipped some (t + 2B, t + 3B, ...).
std::optional<std::uint64_t> TimelineComparison::find_jump(std::uint64_t i, std::uint64_t t) const {
  if (consistent_block(i, t)) return t;
  for (std::uint64_t d = 2; d <= kMaxJumpBlocks && t + (d + 1) * block_ <= in_.run_frames; ++d) {
    if (consistent_block(i, t + d * block_)) return t + d * block_;
  }
  return std::nullopt;
}

// Whether sample (n, c) of block `i` is the full sum, a worker's part or 0 at position `t`.
bool TimelineComparison::sample_fits(std::uint64_t i, std::uint64_t n, std::uint32_t c,
                                     std::uint64_t t) const {
  const float value = in_.capture.at(i + n, c);
  if (value == 0.0f || same_bits(value, in_.full.at(t + n, c))) return true;
  return std::any_of(in_.alone.begin(), in_.alone.end(), [&](const FrameView& render) {
    return same_bits(value, render.at(t + n, c));
  });
}

// Where block `i` sits if the server read synthfarm's port buffers while synthfarm wrote them:
// each sample from one of two consecutive buffers (t' - B and t', t' after `t`). Returns t'.
std::optional<std::uint64_t> TimelineComparison::find_torn(std::uint64_t i, std::uint64_t t) const {
  for (std::uint64_t old = t;
       old + 2 * block_ <= in_.run_frames && old <= t + kMaxJumpBlocks * block_; old += block_) {
    bool fits = true;
    for (std::uint64_t n = 0; n < block_ && fits; ++n) {
      for (std::uint32_t c = 0; c < in_.capture.channels && fits; ++c) {
        fits = sample_fits(i, n, c, old) || sample_fits(i, n, c, old + block_);
      }
    }
    if (fits) return old + block_;
  }
  return std::nullopt;
}

void TimelineComparison::note_jump(const Jump& jump) {
  jumps_.push_back(jump);
  if (!xrun_near(jump.capture_frame)) unexplained_jumps_.push_back(jump);
}

// True if the server reported an xrun within kXrunWindowCycles of the capture cycle holding
// `i`: one that the capture first knew of after the cycle kXrunWindowCycles before began, and
// by the start of the cycle kXrunWindowCycles after it (or at any time later, when that cycle
// lies past the capture's end).
bool TimelineComparison::xrun_near(std::uint64_t i) const {
  const std::uint64_t cycle = i / block_;
  const std::uint64_t cycles = in_.capture.frames() / block_;
  const std::uint64_t before = cycle > kXrunWindowCycles ? cycle - kXrunWindowCycles : 0;
  const std::uint64_t after = cycle + kXrunWindowCycles + 1;
  return std::any_of(in_.xrun_frames.begin(), in_.xrun_frames.end(), [&](std::uint64_t x) {
    return x > before * block_ && (after >= cycles || x <= after * block_);
  });
}

TimelineComparison::Tally& TimelineComparison::tally(std::uint64_t i) {
  return i >= in_.set_aside_begin && i < in_.set_aside_end ? set_aside_ : outside_;
}

void TimelineComparison::tally_block(std::uint64_t i, std::uint64_t t) {
  for (std::uint64_t n = 0; n < block_; ++n) {
    Tally& counts = tally(i + n);
    switch (frame_kind(i + n, t + n)) {
      case FrameKind::kFull:
        ++counts.full;
        break;
      case FrameKind::kOneWorker:
        ++counts.one_worker;
        break;
      case FrameKind::kSilent:
        ++counts.silent;
        break;
      case FrameKind::kWrong:
        ++counts.wrong;
        break;
    }
  }
}

}  // namespace synthfarm::testing
