#include "coordinator/mix/master_stage.h"

#include <algorithm>
#include <cmath>

#include "shared/realtime_counters.h"

namespace synthfarm {
namespace {

std::uint32_t ramp_frames_at(std::uint32_t sample_rate_hz) noexcept {
  const auto frames =
      static_cast<std::uint32_t>(std::lround(MasterStage::kGainRampSeconds * sample_rate_hz));
  return std::max<std::uint32_t>(frames, 1);
}

// The end of every sample's way: the master gain (exactly 1.0f at 0 dB, which changes no bit),
// then NaN/Inf replaced by 0 and, for devices, the limit, both counted. Written without
// branches so that the steady-state loop vectorises.
inline float finish_sample(float sample, float master_gain, bool limit_output,
                           std::uint32_t& nonfinite, std::uint32_t& limited) noexcept {
  sample = sample * master_gain;
  const bool bad = !std::isfinite(sample);
  nonfinite += bad;
  sample = bad ? 0.0f : sample;
  const bool over = limit_output && std::fabs(sample) > 1.0f;
  limited += over;
  return over ? std::copysign(1.0f, sample) : sample;
}

}  // namespace

MasterStage::MasterStage(std::uint32_t sample_rate_hz, bool limit_output) noexcept
    : fade_frames_(static_cast<std::uint32_t>(0.005 * sample_rate_hz)),
      fade_in_step_(1.0f / static_cast<float>(fade_frames_)),
      limit_output_(limit_output),
      gain_ramp_(ramp_frames_at(sample_rate_hz), 1.0f) {}

void MasterStage::set_gain_db(double db) noexcept {
  if (std::isnan(db)) return;
  db = std::clamp(db, kMinGainDb, kMaxGainDb);
  // Relaxed: reports only, and only this thread reads it.
  target_gain_db_ = db;
  // 0 dB gives exactly 1.0f, so an unchanged gain leaves every sample's bits as they were.
  // Relaxed pairs with process()'s relaxed load: the value is all that travels, nothing
  // written before it needs to be seen with it.
  target_gain_.store(static_cast<float>(std::pow(10.0, db / 20.0)), std::memory_order_relaxed);
}

void MasterStage::process(float* interleaved, std::uint32_t frames,
                          std::uint32_t channels) noexcept {
  // Acquire pairs with request_fade_out's release (nothing else rides on it, but it is cheap).
  const bool fading_out = fade_out_requested_.load(std::memory_order_acquire);
  // Settings and state in locals for the loop, state stored back once: the compiler cannot keep
  // members in registers across the stores to `interleaved`, which might alias them, and the
  // reloads made the stage's cost depend on where the object sits relative to the buffer.
  const std::uint32_t fade_frames = fade_frames_;
  const float fade_in_step = fade_in_step_;
  const bool limit_output = limit_output_;
  float fade_in_gain = fade_in_gain_;
  std::uint32_t fade_in_count = fade_in_count_;
  std::uint32_t fade_out_count = fade_out_count_;
  LinearRamp gain_ramp = gain_ramp_;
  // Relaxed pairs with set_gain_db's relaxed store. Read once: a change starts at a block
  // boundary.
  const float target_gain = target_gain_.load(std::memory_order_relaxed);
  if (target_gain != gain_ramp.target()) gain_ramp.restart_towards(target_gain);
  // 32-bit counts of one call (a buffer holds far fewer than 2^32 samples): 64-bit ones would
  // halve the vector lanes of the steady-state loop.
  std::uint32_t nonfinite = 0;
  std::uint32_t limited = 0;
  if (fade_in_count >= fade_frames && !fading_out && !gain_ramp.ramping()) {
    // The steady state, nearly every call: both gains are constant over the block.
    const float master_gain = gain_ramp.value();
    const std::size_t samples = std::size_t{frames} * channels;
    for (std::size_t i = 0; i < samples; ++i) {
      interleaved[i] = finish_sample(interleaved[i] * fade_in_gain, master_gain, limit_output,
                                     nonfinite, limited);
    }
  } else {
    for (std::uint32_t n = 0; n < frames; ++n) {
      if (fade_in_count < fade_frames) {
        fade_in_gain = fade_in_gain + fade_in_step;
        ++fade_in_count;
      }
      float fade_out_gain = 1.0f;
      if (fading_out) {
        fade_out_gain =
            fade_out_count >= fade_frames
                ? 0.0f
                : 1.0f - static_cast<float>(fade_out_count + 1) / static_cast<float>(fade_frames);
        if (fade_out_count < fade_frames) ++fade_out_count;
      }
      const float master_gain = gain_ramp.next();
      float* frame = interleaved + std::size_t{n} * channels;
      for (std::uint32_t c = 0; c < channels; ++c) {
        float sample = frame[c] * fade_in_gain;  // one rounding, as pyo's server
        if (fading_out) sample = sample * fade_out_gain;
        frame[c] = finish_sample(sample, master_gain, limit_output, nonfinite, limited);
      }
    }
  }
  fade_in_gain_ = fade_in_gain;
  fade_in_count_ = fade_in_count;
  fade_out_count_ = fade_out_count;
  gain_ramp_ = gain_ramp;
  if (nonfinite) add_relaxed(nonfinite_samples_, nonfinite);
  if (limited) add_relaxed(limited_samples_, limited);
  // Release pairs with faded_out()'s acquire: the control thread may stop the stream now.
  if (fading_out && fade_out_count >= fade_frames) {
    faded_out_.store(true, std::memory_order_release);
  }
}

}  // namespace synthfarm
