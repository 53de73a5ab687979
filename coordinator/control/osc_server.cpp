#include "coordinator/control/osc_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <utility>

#include "coordinator/control/osc_command.h"
#include "coordinator/control/osc_message.h"

namespace synthfarm {
namespace {

// The largest UDP payload over IPv4 (65535 - 8 - 20); IPv6 jumbograms do not reach us.
constexpr std::size_t kMaxDatagramBytes = 65507;
// A reply text longer than this is cut: the reply must fit one datagram.
constexpr std::size_t kMaxReplyTextBytes = 60000;

std::string endpoint_text(const sockaddr_storage& address) {
  char host[INET6_ADDRSTRLEN] = "?";
  std::uint16_t port = 0;
  if (address.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    inet_ntop(AF_INET, &v4.sin_addr, host, sizeof host);
    port = ntohs(v4.sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
  inet_ntop(AF_INET6, &v6.sin6_addr, host, sizeof host);
  port = ntohs(v6.sin6_port);
  // append(), not operator+: GCC 12 warns falsely (-Wrestrict) on "[" + std::string.
  return std::string("[").append(host).append("]:").append(std::to_string(port));
}

bool is_loopback(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    return (ntohl(v4.sin_addr.s_addr) >> 24) == 127;
  }
  const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
  return IN6_IS_ADDR_LOOPBACK(&v6.sin6_addr);
}

}  // namespace

std::unique_ptr<OscServer> OscServer::open(const std::string& bind_address, std::uint16_t port,
                                           CommandHandler& handler, std::uint32_t worker_count,
                                           ControlServer::Console console, std::string& notice,
                                           std::string& warning, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
  addrinfo* found = nullptr;
  const int lookup =
      getaddrinfo(bind_address.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (lookup != 0 || found == nullptr) {
    error = "--osc-bind " + bind_address + ": " + gai_strerror(lookup) +
            " (give a numeric IPv4 or IPv6 address, e.g. 127.0.0.1)";
    return nullptr;
  }
  const int fd = socket(found->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind(fd, found->ai_addr, found->ai_addrlen) != 0) {
    error = "cannot open the OSC port " + bind_address + ":" + std::to_string(port) + ": " +
            std::strerror(errno) +
            (errno == EADDRINUSE ? " (another program has it; choose another --osc-port, or 0)"
                                 : " (check --osc-bind and --osc-port)");
    if (fd >= 0) close(fd);
    freeaddrinfo(found);
    return nullptr;
  }
  freeaddrinfo(found);
  sockaddr_storage bound{};
  socklen_t bound_size = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_size);
  const std::uint16_t bound_port =
      ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in&>(bound).sin_port
                                       : reinterpret_cast<sockaddr_in6&>(bound).sin6_port);
  notice = "synthfarm: OSC control on udp " + endpoint_text(bound) +
           " (/synthfarm/stop, /synthfarm/status, ...; replies to /synthfarm/reply)\n";
  if (!is_loopback(bound)) {
    warning =
        "synthfarm: warning: the OSC port is open beyond this machine, and OSC has no "
        "authentication: anyone who reaches udp " +
        endpoint_text(bound) +
        " can stop, change or quit this instance; bind 127.0.0.1 (the default) or "
        "firewall the port\n";
  }
  return std::unique_ptr<OscServer>(
      new OscServer(fd, bound_port, handler, worker_count, std::move(console)));
}

OscServer::OscServer(int fd, std::uint16_t port, CommandHandler& handler,
                     std::uint32_t worker_count, ControlServer::Console console)
    : fd_(fd),
      port_(port),
      handler_(handler),
      worker_count_(worker_count),
      console_(std::move(console)),
      datagram_(kMaxDatagramBytes + 1) {}

OscServer::~OscServer() {
  close(fd_);
}

bool OscServer::serve() {
  bool quit = false;
  for (int k = 0; k < kMaxDatagramsPerServe; ++k) {
    sockaddr_storage from{};
    socklen_t from_size = sizeof from;
    const ssize_t size = recvfrom(fd_, datagram_.data(), datagram_.size(), MSG_DONTWAIT,
                                  reinterpret_cast<sockaddr*>(&from), &from_size);
    if (size < 0) break;  // EAGAIN: nothing more now (or a passing ICMP error: read it later)
    std::string address;
    bool silent = false;
    const CommandResult result =
        answer(datagram_.data(), static_cast<std::size_t>(size), address, quit, silent);
    if (!silent) reply(from, from_size, address, result);
  }
  return quit;
}

CommandResult OscServer::answer(const void* data, std::size_t size, std::string& address,
                                bool& quit, bool& silent) {
  const auto message = decode_osc_message(data, size);
  if (!message) {
    const std::string why = "osc: a datagram of " + std::to_string(size) +
                            " bytes that is not an OSC message (bundles are not taken either: "
                            "send messages one by one); nothing changed\n";
    report_refusal(why);
    return {false, why};
  }
  address = message->address;
  if (address == kOscReplyAddress) {
    silent = true;
    return {false, {}};
  }
  if (quit) {
    return {false, "osc: the instance is quitting; " + address + " was not carried out\n"};
  }
  auto parsed = parse_osc_command(*message, worker_count_);
  if (auto* why = std::get_if<std::string>(&parsed)) {
    CommandResult refused{false, *why + "; nothing changed\n"};
    report_refusal(refused.text);
    return refused;
  }
  const auto& command = std::get<ControlCommand>(parsed);
  if (command.verb == ControlCommand::Verb::kQuit) quit = true;
  CommandResult result;
  try {
    result = handler_.apply(command);
  } catch (const std::exception& failure) {
    // The handler should not throw; if it does, the instance plays on.
    result = {false, "osc: " + address + " failed: " + failure.what() + "\n"};
  }
  if (result.ok && result.log) console_.out(result.text);
  if (!result.ok) report_refusal(result.text);
  return result;
}

void OscServer::reply(const sockaddr_storage& to, socklen_t to_size, std::string_view address,
                      const CommandResult& result) {
  std::string_view text = result.text;
  std::string cut;
  if (text.size() > kMaxReplyTextBytes) {
    cut = std::string(text.substr(0, kMaxReplyTextBytes)) +
          "...\n(cut: longer than one datagram; use synthfarm ctl over the FIFO for all of it)\n";
    text = cut;
  }
  const auto bytes = encode_osc_message(osc_reply(address, result.ok, text));
  // MSG_DONTWAIT: a full socket buffer drops this reply rather than stall the control thread.
  sendto(fd_, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
         reinterpret_cast<const sockaddr*>(&to), to_size);
}

void OscServer::report_refusal(const std::string& text) {
  const auto now = std::chrono::steady_clock::now();
  if (now - refusal_second_ >= std::chrono::seconds(1)) {
    refusal_second_ = now;
    refusals_printed_ = 0;
  }
  if (refusals_printed_ >= kRefusalsPrintedPerSecond) {
    ++refusals_unprinted_;
    return;
  }
  std::string line = "synthfarm: " + text;
  if (refusals_unprinted_ > 0) {
    line += "synthfarm: osc: " + std::to_string(refusals_unprinted_) +
            " more refusals before this one were not shown\n";
  }
  console_.err(line);
  ++refusals_printed_;
  refusals_unprinted_ = 0;
}

}  // namespace synthfarm
