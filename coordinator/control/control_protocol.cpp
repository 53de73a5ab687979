#include "coordinator/control/control_protocol.h"

namespace synthfarm {

std::string control_command_summary() {
  return "  Commands (workers count from 0):\n"
         "    stop <worker|all>                      stop rendering (costs no CPU)\n"
         "    play <worker|all>                      resume, with a short fade\n"
         "    set <worker|all> feedback|mul <value>  change a SineLoop parameter smoothly\n"
         "    gain <dB>                              master gain, smoothly (0 dB: unity)\n"
         "    reseed <worker|all> <seed>             draw the worker's frequencies anew\n"
         "    status                                 report every worker once\n"
         "    report FILE                            write the JSON report now\n"
         "    quit                                   fade out and exit\n";
}

std::optional<ReplyToLine> split_reply_to(std::string_view line) noexcept {
  if (!line.starts_with(kReplyToPrefix)) return std::nullopt;
  line.remove_prefix(kReplyToPrefix.size());
  const auto end = line.find(' ');
  if (end == std::string_view::npos) return ReplyToLine{line, {}};
  return ReplyToLine{line.substr(0, end), line.substr(end + 1)};
}

std::string format_reply(bool ok, std::string_view body) {
  std::string reply(body);
  reply.append(ok ? kReplyOk : kReplyError).append("\n");
  return reply;
}

CtlReply parse_ctl_reply(std::string_view received) {
  CtlReply reply;
  std::size_t begin = 0;
  while (begin < received.size()) {
    const std::size_t end = received.find('\n', begin);
    if (end == std::string_view::npos) break;  // a line still on its way
    const std::string_view line = received.substr(begin, end - begin);
    if (line == kReplyOk || line == kReplyError) {
      reply.done = true;
      reply.ok = line == kReplyOk;
      return reply;
    }
    reply.body.append(line).append("\n");
    begin = end + 1;
  }
  reply.body.clear();  // not done: nothing to hand back yet
  return reply;
}

}  // namespace synthfarm
