#pragma once
// The instance's OSC transport (osc_command.h has the address space): a UDP socket of its own,
// non-blocking, that the control thread polls beside the control FIFO. Each datagram is
// decoded (liblo's codec), mapped to a ControlCommand through the FIFO's grammar, applied by
// the same CommandHandler, and answered once, to the address and port it came from, with
// /synthfarm/reply. liblo's own server is not used: its receive loop would decide how much to
// read per call, and could not answer a datagram that is not OSC (it drops those unseen).
//
// Never answered: a /synthfarm/reply (an answer, never a command: two instances pointed at each
// other would otherwise trade refusals for ever). Everything else, OSC or not, gets one reply.
// OSC has no authentication: whoever reaches the port steers the instance. Hence loopback by
// default, and the warning open() returns for any other address.

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/control/command_handler.h"
#include "coordinator/control/control_server.h"  // ControlServer::Console

namespace synthfarm {

class OscServer {
 public:
  // Datagrams answered per serve(): a flood cannot keep the control thread from its other
  // sources (signals, worker deaths, the watchdog) for longer than this many commands take.
  static constexpr int kMaxDatagramsPerServe = 64;

  // Thread: control. Binds UDP `port` (0: the kernel picks a free one) on the numeric IPv4 or
  // IPv6 `bind_address`. On success, `notice` holds the start-up line (where it listens, for
  // stdout) and `warning`, for an address beyond loopback, a line for stderr (else empty); on
  // failure, nullptr and `error` saying what to do. `handler` must outlive the server; workers are
  // checked against `worker_count`.
  static std::unique_ptr<OscServer> open(const std::string& bind_address, std::uint16_t port,
                                         CommandHandler& handler, std::uint32_t worker_count,
                                         ControlServer::Console console, std::string& notice,
                                         std::string& warning, std::string& error);
  ~OscServer();
  OscServer(const OscServer&) = delete;
  OscServer& operator=(const OscServer&) = delete;

  // Thread: control. The descriptor to poll for POLLIN.
  int fd() const noexcept { return fd_; }
  // Thread: any. The port it listens on (what port 0 became).
  std::uint16_t port() const noexcept { return port_; }

  // Thread: control. Answers at most kMaxDatagramsPerServe waiting datagrams, never waits for
  // more. Returns true once a message asked to quit (later ones in the same call are answered
  // but not carried out). Never blocks: replies are sent MSG_DONTWAIT, and one the kernel
  // cannot take at once is dropped (UDP may lose it anyway).
  bool serve();

 private:
  OscServer(int fd, std::uint16_t port, CommandHandler& handler, std::uint32_t worker_count,
            ControlServer::Console console);
  // The reply to one datagram; "" address: it was not an OSC message.
  CommandResult answer(const void* data, std::size_t size, std::string& address, bool& quit,
                       bool& silent);
  void reply(const sockaddr_storage& to, socklen_t to_size, std::string_view address,
             const CommandResult& result);
  // Prints a refusal on stderr, at most kRefusalsPrintedPerSecond a second (a flood must not
  // turn into a flood of lines); the others are counted in the next line printed.
  void report_refusal(const std::string& text);
  static constexpr int kRefusalsPrintedPerSecond = 5;

  int fd_;
  std::uint16_t port_;
  CommandHandler& handler_;
  std::uint32_t worker_count_;
  ControlServer::Console console_;
  std::vector<unsigned char> datagram_;  // one receive buffer, the largest UDP payload
  std::chrono::steady_clock::time_point refusal_second_{};  // when the current second began
  int refusals_printed_ = 0;                                // in that second
  std::uint64_t refusals_unprinted_ = 0;
};

}  // namespace synthfarm
