// Fuzz target: what `synthfarm ctl` makes of the bytes an instance writes into its reply FIFO,
// parse_ctl_reply (coordinator/control/control_protocol.h). Input: the bytes received so far.
//
// Properties: it never reads past the input or throws; a reply is done exactly when a whole
// line equal to one of the two last lines has arrived; once done, its body is the input's text
// before that line, and the answer does not change when more bytes follow (ctl reads in
// pieces and must not take back a finished reply); not done, it says nothing of ok or body.

#include <string>
#include <string_view>

#include "coordinator/control/control_protocol.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace synthfarm;
  const std::string_view received = fuzz::as_text(data, size);
  const CtlReply reply = parse_ctl_reply(received);

  // The first whole line that is a last line, found independently of the parser.
  std::size_t line_start = 0;
  bool expected_done = false;
  bool expected_ok = false;
  std::size_t body_end = 0;
  while (line_start < received.size()) {
    const std::size_t newline = received.find('\n', line_start);
    if (newline == std::string_view::npos) break;
    const std::string_view line = received.substr(line_start, newline - line_start);
    if (line == kReplyOk || line == kReplyError) {
      expected_done = true;
      expected_ok = line == kReplyOk;
      body_end = line_start;
      break;
    }
    line_start = newline + 1;
  }
  FUZZ_CHECK(reply.done == expected_done);
  if (!reply.done) {
    FUZZ_CHECK(!reply.ok && reply.body.empty());
    return 0;
  }
  FUZZ_CHECK(reply.ok == expected_ok);
  FUZZ_CHECK(reply.body == received.substr(0, body_end));
  // More bytes after a finished reply change nothing.
  const CtlReply longer = parse_ctl_reply(std::string(received) + "synthfarm-reply: ok\nmore");
  FUZZ_CHECK(longer.done && longer.ok == reply.ok && longer.body == reply.body);
  return 0;
}
