#pragma once
// synthfarm's own JACK client, through libjack: the one file that sees JACK's types (RtAudio
// plays on ALSA and PulseAudio only). Owning the jack_client_t is what lets synthfarm count the
// server's xruns, report its latency to the graph, follow a buffer-size change, choose its
// connections, and notice a lost server without a library thread closing anything behind its
// back (RtAudio 5.2 closes the stream from a thread of its own and can abort).
//
// Threads JACK runs in this process: the process thread (process callback, RT), and the
// notification thread (shutdown, xrun, buffer-size and latency callbacks, not RT).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/output/audio_output.h"
#include "coordinator/output/device_list.h"
#include "coordinator/plan/cli_options.h"

namespace synthfarm {

struct JackOutputSettings {
  std::string client_name;  // the ports are <client_name>:out_1 ... out_<channels>
  std::uint32_t channels = 2;
  std::uint32_t sample_rate_hz = 48000;  // must equal the server's: JACK imposes its rate
  // Where the ports connect when the output starts; `device`, when set, wins: its input ports
  // (a device is a client of the server, as probe_jack_devices lists them).
  JackConnections connections;
  std::optional<AudioDevice> device;
  // --buffers: how many of the server's buffers the workers render ahead; the ports' latency
  // tells the graph so (JACK's latency callback).
  std::uint32_t render_ahead_buffers = 2;
};

// Thread: main, before anything plays. Opens a client named exactly settings.client_name on
// the server JACK_DEFAULT_SERVER names (never starting one), registers its output ports and
// checks that the connections asked for exist, without activating it (start() does). Returns
// nullptr and sets `error` (what failed and what to do) when there is no server, the name is
// taken, the rates differ, or a pattern or device matches no port. Blocks on the server;
// allocates. The server decides whether the process thread runs real-time (jackd -R).
std::unique_ptr<AudioOutput> open_jack_output(const JackOutputSettings& settings,
                                              std::string& error);

// Thread: main. The server's clients that own audio ports, in the order their ports were
// registered (the server's own "system" first), each a device: output_channels counts the
// ports it takes audio on, input_channels those it gives; the rate is the server's; the
// default output is the owner of the first physical playback port. Empty when no server
// answers. Prints nothing (libjack's messages are silenced). Blocks on the server; allocates.
std::vector<AudioDevice> probe_jack_devices();

}  // namespace synthfarm
