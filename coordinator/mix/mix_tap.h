#pragma once
// Something that sees every buffer the output gets, after the master stage: the recorder
// (--record). The mixer calls it from the output thread, so it must be real-time safe.

#include <cstdint>

namespace synthfarm {

class MixTap {
 public:
  virtual ~MixTap() = default;
  // Thread: the output (audio callback or null clock). RT-safe: no allocation, lock, I/O,
  // logging or waiting; at most a futex wake. `interleaved` holds `frames` frames of the
  // segment's channel count, exactly as the device gets them.
  virtual void on_mixed(const float* interleaved, std::uint32_t frames) noexcept = 0;
};

}  // namespace synthfarm
