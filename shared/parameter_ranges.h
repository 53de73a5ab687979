#pragma once
// The ranges every user-settable parameter accepts (inclusive), in one place so that the
// command line, the control grammar and the stages that apply them cannot disagree: a value a
// run can start with is a value `set` accepts, and the reverse.

namespace synthfarm {

// pyo clips feedback to [0, 1]; refusing what it would clip tells the user at once.
inline constexpr double kMinFeedback = 0.0;
inline constexpr double kMaxFeedback = 1.0;
// A negative mul flips the polarity, as in pyo. Beyond 1000 a single oscillator (peak 1)
// reaches +60 dBFS: the device output is limited to ±1 anyway, and files are written unclipped.
inline constexpr double kMinMul = -1000.0;
inline constexpr double kMaxMul = 1000.0;
// The master gain: -120 dB is below a float32 signal's resolution (silence for any purpose);
// +24 dB is far past what a mix of unit-peak oscillators should ever need.
inline constexpr double kMinGainDb = -120.0;
inline constexpr double kMaxGainDb = 24.0;

}  // namespace synthfarm
