#pragma once
// The one way synthfarm creates a WAV file (--output and --record): float32, through
// libsndfile, with the header rewritten after every write, so that the file on disk is a valid
// WAV holding every frame written so far, whatever ends the process (even SIGKILL).

#include <sndfile.h>

#include <cstdint>
#include <string>

namespace synthfarm {

// Thread: a non-real-time one (it blocks on the file system). Returns the open file, or nullptr
// with `reason` holding libsndfile's explanation (the caller names the option and the fix).
SNDFILE* create_float_wav(const std::string& path, std::uint32_t sample_rate_hz,
                          std::uint32_t channels, std::string& reason);

}  // namespace synthfarm
