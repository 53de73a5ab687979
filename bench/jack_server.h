#pragma once
// The JACK server a capacity search with --audio jack plays on: found before the first probe,
// so that a missing server is one clear message at once instead of a failed probe, and its
// sample rate is known for synthfarm --sample-rate (synthfarm refuses any other) and the
// kernel bound.
//
// Thread: the caller's (not real-time). Opens and closes one JACK client; may block for as long
// as libjack takes to find out that no server answers (milliseconds).

#include <cstdint>
#include <optional>
#include <string>

namespace synthfarm::bench {

struct JackServer {
  std::string name;  // JACK_DEFAULT_SERVER, or "default" when it is not set (as libjack reads it)
  std::uint32_t sample_rate_hz = 0;
  std::uint32_t buffer_frames = 0;
};

// The running server libjack would connect synthfarm to, or nullopt with `error` naming the
// server and the fix (start jackd, or set JACK_DEFAULT_SERVER). Never starts a server.
std::optional<JackServer> find_jack_server(std::string& error);

}  // namespace synthfarm::bench
