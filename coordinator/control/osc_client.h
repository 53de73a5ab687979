#pragma once
// `synthfarm ctl --osc HOST:PORT COMMAND`: the command as an OSC message (osc_command.h), sent
// over UDP to an instance started with --osc-port, and its /synthfarm/reply read back.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/control/control_client.h"  // CtlResult

namespace synthfarm {

struct OscEndpoint {
  std::string host;  // a name or a numeric address, without the brackets of "[::1]:57130"
  std::string port;  // digits, 1 to 65535
};

// Thread: any. Pure. "127.0.0.1:57130", "localhost:57130", "[::1]:57130"; nullopt for anything
// else.
std::optional<OscEndpoint> parse_osc_endpoint(std::string_view text);

// Thread: synthfarm ctl's main thread. Sends `words` (a FIFO command) to `endpoint` and waits
// up to `timeout_seconds` for the reply. Blocks (that is its job); allocates; never prints. Exit
// codes as for the FIFO: 0 answered ok, 1 answered error, nobody listening, or no answer in time.
CtlResult send_osc_command(const OscEndpoint& endpoint, double timeout_seconds,
                           const std::vector<std::string>& words);

}  // namespace synthfarm
