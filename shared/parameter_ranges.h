#pragma once
// The ranges every user-settable parameter accepts (inclusive), in one place so that the
// command line, the control grammar and the stages that apply them cannot disagree: a value a
// run can start with is a value `set` accepts, and the reverse.

#include <cstdint>

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
// --buffers, the device buffers the workers render ahead (synthfarm's added latency). One is
// the least that works (a worker renders the next buffer while the device plays this one);
// 16 buffers of the largest block (8192 frames) are 2.7 s at 48 kHz, past any use for live
// audio, and keep the rings (sized to hold them) within a few MB per worker.
inline constexpr std::uint32_t kMinBuffers = 1;
inline constexpr std::uint32_t kMaxBuffers = 16;
inline constexpr std::uint32_t kDefaultBuffers = 2;

}  // namespace synthfarm
