// The pure halves of the control protocol, which ctl and the server share.
#include "coordinator/control/control_protocol.h"

#include <gtest/gtest.h>

#include <string>

namespace synthfarm {
namespace {

TEST(SplitReplyTo, SeparatesTheReplyFifoFromTheCommand) {
  const auto line = split_reply_to("reply-to /run/user/1000/r.reply set all mul 0.5");
  ASSERT_TRUE(line);
  EXPECT_EQ(line->reply_path, "/run/user/1000/r.reply");
  EXPECT_EQ(line->command, "set all mul 0.5");
}

TEST(SplitReplyTo, LeavesALineWithoutThePrefixAlone) {
  EXPECT_FALSE(split_reply_to("stop 0"));
  EXPECT_FALSE(split_reply_to("reply-to"));  // the prefix has its blank
  EXPECT_FALSE(split_reply_to(" reply-to /r stop 0"));
}

TEST(SplitReplyTo, GivesAnEmptyCommandWhenOnlyAPathFollows) {
  const auto line = split_reply_to("reply-to /r");
  ASSERT_TRUE(line);
  EXPECT_EQ(line->reply_path, "/r");
  EXPECT_EQ(line->command, "");
}

TEST(FormatReply, EndsTheBodyWithTheLastLineCtlWaitsFor) {
  EXPECT_EQ(format_reply(true, "control: stop 1\n"), "control: stop 1\nsynthfarm-reply: ok\n");
  EXPECT_EQ(format_reply(false, ""), "synthfarm-reply: error\n");
}

TEST(ParseCtlReply, ReadsBackWhatTheServerFormats) {
  for (const bool ok : {true, false}) {
    const CtlReply reply = parse_ctl_reply(format_reply(ok, "first line\nsecond line\n"));
    EXPECT_TRUE(reply.done);
    EXPECT_EQ(reply.ok, ok);
    EXPECT_EQ(reply.body, "first line\nsecond line\n");
  }
}

TEST(ParseCtlReply, IsNotDoneUntilTheLastLineIsComplete) {
  const std::string whole = format_reply(true, "status: fine\n");
  for (std::size_t cut = 0; cut < whole.size(); ++cut) {
    const CtlReply reply = parse_ctl_reply(std::string_view(whole).substr(0, cut));
    EXPECT_FALSE(reply.done) << "cut at " << cut;
    EXPECT_EQ(reply.body, "") << "cut at " << cut;
  }
  EXPECT_TRUE(parse_ctl_reply(whole).done);
}

TEST(ParseCtlReply, EndsAtTheFirstLastLineAndIgnoresWhatFollows) {
  const CtlReply reply = parse_ctl_reply("a\nsynthfarm-reply: error\nb\nsynthfarm-reply: ok\n");
  EXPECT_TRUE(reply.done);
  EXPECT_FALSE(reply.ok);
  EXPECT_EQ(reply.body, "a\n");
}

TEST(ParseCtlReply, TakesOnlyAWholeLineAsTheLastLine) {
  EXPECT_FALSE(parse_ctl_reply("xsynthfarm-reply: ok\n").done);
  EXPECT_FALSE(parse_ctl_reply("synthfarm-reply: ok \n").done);
  EXPECT_FALSE(parse_ctl_reply("synthfarm-reply: okay\n").done);
  const CtlReply reply = parse_ctl_reply("synthfarm-reply: ok\n");
  EXPECT_TRUE(reply.done);
  EXPECT_TRUE(reply.ok);
  EXPECT_EQ(reply.body, "");
}

TEST(ParseCtlReply, TakesAnyBytesWithoutFailing) {
  const std::string bytes("\0\xff\n\r\nsynthfarm-reply: ok\n", 25);
  const CtlReply reply = parse_ctl_reply(bytes);
  EXPECT_TRUE(reply.done);
  EXPECT_EQ(reply.body, std::string("\0\xff\n\r\n", 5));
}

}  // namespace
}  // namespace synthfarm
