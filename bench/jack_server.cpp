#include "bench/jack_server.h"

#include <jack/jack.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace synthfarm::bench {
namespace {

// libjack prints its own lines when no server answers; the bench says what failed in one line
// that names the fix.
void silence(const char*) {}

}  // namespace

std::optional<JackServer> find_jack_server(std::string& error) {
  JackServer server;
  const char* name = std::getenv("JACK_DEFAULT_SERVER");
  server.name = name && *name ? name : "default";
  jack_set_error_function(silence);
  jack_set_info_function(silence);
  const std::string client_name = "synthfarm-bench-" + std::to_string(getpid());
  jack_status_t status{};
  jack_client_t* client = jack_client_open(client_name.c_str(), JackNoStartServer, &status);
  if (!client && (status & JackServerFailed) == 0) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%x", static_cast<unsigned>(status));
    error = "the JACK server '" + server.name + "' refused a client (jack_status_t " + hex +
            "; a full client table, another JACK version, or all 8 server slots of "
            "/dev/shm/jack-shm-registry taken): see the server's own log";
    return std::nullopt;
  }
  if (!client) {
    error = "no JACK server '" + server.name +
            "' is running (--audio jack plays on the server JACK_DEFAULT_SERVER names, "
            "'default' when it is unset); start it (e.g. jackd -n " +
            server.name +
            " -d dummy -r 48000 -p 256, or your sound card's backend), or set "
            "JACK_DEFAULT_SERVER to the name of a running server";
    return std::nullopt;
  }
  server.sample_rate_hz = jack_get_sample_rate(client);
  server.buffer_frames = jack_get_buffer_size(client);
  jack_client_close(client);
  return server;
}

}  // namespace synthfarm::bench
