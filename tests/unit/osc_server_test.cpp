// OscServer (coordinator/control/osc_server.h) over loopback UDP, in one process, with a fake
// handler: one reply per datagram, to its sender; at most kMaxDatagramsPerServe answered per
// serve(), so a flood cannot hold the control thread; replies are never answered; quit.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "coordinator/control/osc_command.h"
#include "coordinator/control/osc_message.h"
#include "coordinator/control/osc_server.h"

namespace synthfarm {
namespace {

class CountingHandler final : public CommandHandler {
 public:
  CommandResult apply(const ControlCommand& command) override {
    ++applied;
    return {true, command.verb == ControlCommand::Verb::kQuit ? "quit\n" : "done\n", false};
  }
  int applied = 0;
};

// A client socket on loopback that sends to the server and reads what comes back. Loopback
// UDP delivers within send(): what was sent is queued at the server when send() returns.
class Client {
 public:
  explicit Client(std::uint16_t port) : fd_(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
    int big = 4 << 20;  // room for every reply of a test
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  }
  ~Client() { close(fd_); }
  void send_bytes(const std::vector<unsigned char>& bytes) {
    ASSERT_EQ(send(fd_, bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
  }
  // The replies waiting now (none arrive later: the server answers within serve()).
  std::vector<OscReply> replies() {
    std::vector<OscReply> got;
    std::vector<unsigned char> datagram(65536);
    while (true) {
      const ssize_t size = recv(fd_, datagram.data(), datagram.size(), MSG_DONTWAIT);
      if (size < 0) return got;
      const auto message = decode_osc_message(datagram.data(), static_cast<std::size_t>(size));
      EXPECT_TRUE(message);
      const auto reply = message ? read_osc_reply(*message) : std::nullopt;
      EXPECT_TRUE(reply);
      if (reply) got.push_back(*reply);
    }
  }

 private:
  int fd_;
};

class OscServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string listening, warning, error;
    server_ = OscServer::open("127.0.0.1", 0, handler_, 2,
                              ControlServer::Console{[](const std::string&) {},
                                                     [this](const std::string&) { ++errors_; }},
                              listening, warning, error);
    ASSERT_TRUE(server_) << error;
    EXPECT_TRUE(warning.empty()) << warning;
    EXPECT_NE(listening.find("udp 127.0.0.1:" + std::to_string(server_->port())), std::string::npos)
        << listening;
  }

  // Waits (bounded) until the server's socket is readable, as the control loop's poll does.
  void wait_readable() {
    pollfd ready{server_->fd(), POLLIN, 0};
    ASSERT_EQ(poll(&ready, 1, 5000), 1);
  }

  CountingHandler handler_;
  int errors_ = 0;
  std::unique_ptr<OscServer> server_;
};

TEST_F(OscServerTest, AnswersEachDatagramOnceToItsSender) {
  Client client(server_->port());
  client.send_bytes(encode_osc_message({"/synthfarm/stop", {OscArgument::int32(1)}}));
  client.send_bytes(encode_osc_message({"/synthfarm/stop", {OscArgument::int32(5)}}));
  client.send_bytes({'n', 'o', 't', ' ', 'o', 's', 'c'});
  wait_readable();
  EXPECT_FALSE(server_->serve());
  const auto replies = client.replies();
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[0].address, "/synthfarm/stop");
  EXPECT_TRUE(replies[0].ok);
  EXPECT_EQ(replies[0].text, "done\n");
  EXPECT_FALSE(replies[1].ok);
  EXPECT_NE(replies[1].text.find("there is no worker 5"), std::string::npos) << replies[1].text;
  EXPECT_FALSE(replies[2].ok);
  EXPECT_EQ(replies[2].address, "");
  EXPECT_EQ(handler_.applied, 1);  // refusals change nothing
  EXPECT_EQ(errors_, 2);           // and are said on stderr
}

TEST_F(OscServerTest, AnswersAtMostABoundedNumberOfDatagramsPerServe) {
  Client client(server_->port());
  const auto status = encode_osc_message({"/synthfarm/status", {}});
  // Few enough to fit the server's default receive buffer (about 200 KiB) whole.
  constexpr int kSent = 2 * OscServer::kMaxDatagramsPerServe + 5;
  for (int k = 0; k < kSent; ++k) client.send_bytes(status);
  wait_readable();
  server_->serve();
  EXPECT_EQ(handler_.applied, OscServer::kMaxDatagramsPerServe);
  EXPECT_EQ(client.replies().size(), static_cast<std::size_t>(OscServer::kMaxDatagramsPerServe));
  for (int call = 0; call < 2; ++call) server_->serve();
  EXPECT_EQ(handler_.applied, kSent);
  EXPECT_EQ(client.replies().size(),
            static_cast<std::size_t>(kSent - OscServer::kMaxDatagramsPerServe));
}

TEST_F(OscServerTest, NeverAnswersAReplySoTwoInstancesCannotPingPong) {
  Client client(server_->port());
  client.send_bytes(encode_osc_message(osc_reply("/synthfarm/stop", false, "x")));
  client.send_bytes(encode_osc_message({"/synthfarm/status", {}}));
  wait_readable();
  server_->serve();
  const auto replies = client.replies();
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].address, "/synthfarm/status");
}

TEST_F(OscServerTest, QuitEndsServingAndLaterMessagesAreAnsweredNotCarriedOut) {
  Client client(server_->port());
  client.send_bytes(encode_osc_message({"/synthfarm/quit", {}}));
  client.send_bytes(encode_osc_message({"/synthfarm/stop", {OscArgument::int32(0)}}));
  wait_readable();  // loopback delivers within send(): both are queued by now
  EXPECT_TRUE(server_->serve());
  const auto replies = client.replies();
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_TRUE(replies[0].ok);
  EXPECT_FALSE(replies[1].ok);
  EXPECT_NE(replies[1].text.find("the instance is quitting"), std::string::npos) << replies[1].text;
  EXPECT_EQ(handler_.applied, 1);
}

TEST(OscServerOpen, WarnsBeyondLoopbackAndFailsOnATakenPort) {
  CountingHandler handler;
  const ControlServer::Console quiet{[](const std::string&) {}, [](const std::string&) {}};
  std::string listening, warning, error;
  const auto wide = OscServer::open("0.0.0.0", 0, handler, 1, quiet, listening, warning, error);
  ASSERT_TRUE(wide) << error;
  EXPECT_NE(warning.find("no authentication"), std::string::npos) << warning;
  std::string again_listening, again_warning;
  EXPECT_FALSE(OscServer::open("0.0.0.0", wide->port(), handler, 1, quiet, again_listening,
                               again_warning, error));
  EXPECT_NE(error.find("another program has it"), std::string::npos) << error;
  EXPECT_FALSE(OscServer::open("localhost", 0, handler, 1, quiet, listening, warning, error));
}

}  // namespace
}  // namespace synthfarm
