#pragma once
// Looking at a JACK graph from a test's own client: the process tests that play through JACK
// share these. Header-only; the tests that include it link libjack.

#include <jack/jack.h>

#include <string>
#include <vector>

namespace synthfarm::testing {

// The full names of the ports connected to `port_name` (any client's); none for a port that
// does not exist. Talks to the server; allocates.
inline std::vector<std::string> port_connections(jack_client_t* client,
                                                 const std::string& port_name) {
  std::vector<std::string> names;
  jack_port_t* port = jack_port_by_name(client, port_name.c_str());
  if (!port) return names;
  const char** found = jack_port_get_all_connections(client, port);
  if (!found) return names;
  for (const char** other = found; *other; ++other) names.emplace_back(*other);
  jack_free(found);
  return names;
}

// The full names of the audio ports matching `pattern` (a POSIX extended regular expression,
// as jack_get_ports reads it) with all of `flags`, in registration order.
inline std::vector<std::string> audio_ports(jack_client_t* client, const std::string& pattern,
                                            unsigned long flags) {
  std::vector<std::string> names;
  const char** found = jack_get_ports(client, pattern.c_str(), JACK_DEFAULT_AUDIO_TYPE, flags);
  if (!found) return names;
  for (const char** port = found; *port; ++port) names.emplace_back(*port);
  jack_free(found);
  return names;
}

}  // namespace synthfarm::testing
