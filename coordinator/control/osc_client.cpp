#include "coordinator/control/osc_client.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "coordinator/control/osc_command.h"
#include "coordinator/control/osc_message.h"

namespace synthfarm {
namespace {

CtlResult failure(const std::string& message) {
  return CtlResult{kExitFailure, "", "synthfarm ctl: " + message + "\n", 0};
}

// Closes the socket however the exchange ends.
struct Socket {
  int fd = -1;
  ~Socket() {
    if (fd >= 0) close(fd);
  }
};

}  // namespace

std::optional<OscEndpoint> parse_osc_endpoint(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  const std::string_view port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return std::nullopt;  // an IPv6 address needs its brackets: [::1]:57130
  }
  if (host.empty() || port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  const unsigned long number = std::stoul(std::string(port));
  if (number == 0 || number > 65535) return std::nullopt;
  return OscEndpoint{std::string(host), std::string(port)};
}

CtlResult send_osc_command(const OscEndpoint& endpoint, double timeout_seconds,
                           const std::vector<std::string>& words) {
  const bool ipv6 = endpoint.host.find(':') != std::string::npos;
  const std::string where =
      "udp " + (ipv6 ? "[" + endpoint.host + "]" : endpoint.host) + ":" + endpoint.port;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int lookup = getaddrinfo(endpoint.host.c_str(), endpoint.port.c_str(), &hints, &found);
  if (lookup != 0 || found == nullptr) {
    return failure("cannot find the host " + endpoint.host + ": " + gai_strerror(lookup));
  }
  Socket socket_fd{socket(found->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
  // Connected: only the instance's datagrams arrive, and an ICMP "port unreachable" comes back
  // as ECONNREFUSED instead of a silent wait for the timeout.
  const bool connected =
      socket_fd.fd >= 0 && connect(socket_fd.fd, found->ai_addr, found->ai_addrlen) == 0;
  const int connect_errno = errno;
  freeaddrinfo(found);
  if (!connected) return failure("cannot reach " + where + ": " + std::strerror(connect_errno));

  const OscMessage request = osc_message_from_words(words);
  const auto bytes = encode_osc_message(request);
  if (send(socket_fd.fd, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
    return failure("cannot send to " + where + ": " + std::strerror(errno));
  }

  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(timeout_seconds));
  std::vector<unsigned char> datagram(65536);
  while (true) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    pollfd ready{socket_fd.fd, POLLIN, 0};
    if (poll(&ready, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) {
      return failure(std::string("cannot wait for the answer: ") + std::strerror(errno));
    }
    if (!(ready.revents & (POLLIN | POLLERR))) continue;
    const ssize_t size = recv(socket_fd.fd, datagram.data(), datagram.size(), MSG_DONTWAIT);
    if (size < 0) {
      if (errno == ECONNREFUSED) {
        return failure("nothing listens on " + where + " (is synthfarm running with --osc-port " +
                       endpoint.port + "?)");
      }
      continue;
    }
    const auto message = decode_osc_message(datagram.data(), static_cast<std::size_t>(size));
    const auto reply = message ? read_osc_reply(*message) : std::nullopt;
    if (!reply || reply->address != request.address) continue;  // not the answer: keep waiting
    CtlResult result;
    result.exit_code = reply->ok ? kExitOk : kExitFailure;
    (reply->ok ? result.out : result.err) = reply->text;
    return result;
  }
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%g", timeout_seconds);
  return failure("no answer from " + where + " within " + seconds +
                 " s (is synthfarm running there with --osc-port " + endpoint.port +
                 ", and does a firewall let UDP through both ways? wait longer with --timeout "
                 "SECONDS)");
}

}  // namespace synthfarm
