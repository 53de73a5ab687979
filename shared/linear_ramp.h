#pragma once
// A value that moves linearly to a target over a fixed number of frames, restartable at any
// time from wherever it has got to (so a new target mid-ramp never makes a step). The master
// gain (`gain`) and a worker's mul (`set ... mul`) both glide with it, over 10 ms.

#include <algorithm>
#include <cstdint>

namespace synthfarm {

class LinearRamp {
 public:
  // `frames`: the length of every ramp (at least 1). Starts at rest at `value`.
  explicit LinearRamp(std::uint32_t frames = 1, float value = 1.0f) noexcept
      : frames_(std::max<std::uint32_t>(frames, 1)),
        done_(frames_),
        value_(value),
        start_(value),
        target_(value) {}

  // RT-safe: arithmetic only. A new ramp from the current value to `target`.
  void restart_towards(float target) noexcept {
    start_ = value_;
    target_ = target;
    done_ = 0;
  }
  // RT-safe. At `value` at once, no ramp (a jump, as pyo's own setters make).
  void jump_to(float value) noexcept {
    value_ = start_ = target_ = value;
    done_ = frames_;
  }
  // RT-safe. The value of the next frame; the target exactly at the ramp's last frame and
  // after it. Computed in double from the ramp's two ends rather than by accumulating a step:
  // no drift, monotonic (every operation rounds monotonically), never past the target.
  float next() noexcept {
    if (done_ < frames_) {
      ++done_;
      const double start = start_;
      const double span = static_cast<double>(target_) - start;  // exact in double
      value_ = done_ == frames_ ? target_ : static_cast<float>(start + span * done_ / frames_);
    }
    return value_;
  }

  bool ramping() const noexcept { return done_ < frames_; }
  std::uint32_t frames() const noexcept { return frames_; }
  std::uint32_t frames_left() const noexcept { return frames_ - done_; }
  float value() const noexcept { return value_; }  // the last frame's value
  float target() const noexcept { return target_; }

 private:
  std::uint32_t frames_;
  std::uint32_t done_;  // frames of the current ramp so far; == frames_: at rest
  float value_;
  float start_;
  float target_;
};

}  // namespace synthfarm
