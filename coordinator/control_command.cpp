#include "coordinator/control_command.h"

#include <charconv>
#include <vector>

namespace synthfarm {
namespace {

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t position = 0;
  while (position < line.size()) {
    const auto start = line.find_first_not_of(" \t\r", position);
    if (start == std::string_view::npos) break;
    const auto end = line.find_first_of(" \t\r", start);
    words.push_back(line.substr(start, end == std::string_view::npos ? end : end - start));
    position = end == std::string_view::npos ? line.size() : end;
  }
  return words;
}

std::string printable(std::string_view line) {
  std::string text;
  for (char c : line.substr(0, 80)) {
    const auto byte = static_cast<unsigned char>(c);
    text += (byte >= 0x20 && byte < 0x7f) ? c : '?';
  }
  if (line.size() > 80) text += "...";
  return text;
}

}  // namespace

std::variant<ControlCommand, std::string> parse_control_line(std::string_view line,
                                                             std::uint32_t worker_count) {
  const auto words = split_words(line);
  const auto bad = [&](const std::string& why) {
    std::string message = "control: '";
    message.append(printable(line)).append("': ").append(why);
    message.append(" (").append(kControlHelp).append(")");
    return message;
  };
  if (words.empty()) return bad("empty command");
  ControlCommand command;
  if (words[0] == "status" || words[0] == "quit") {
    if (words.size() != 1)
      return bad(std::string("'").append(words[0]).append("' takes no argument"));
    command.verb = words[0] == "quit" ? ControlCommand::Verb::kQuit : ControlCommand::Verb::kStatus;
    return command;
  }
  if (words[0] != "stop" && words[0] != "play") return bad("unknown command");
  command.verb = words[0] == "stop" ? ControlCommand::Verb::kStop : ControlCommand::Verb::kPlay;
  if (words.size() != 2) return bad("give one worker number or 'all'");
  if (words[1] == "all") return command;
  std::uint32_t worker = 0;
  const auto [end, error] =
      std::from_chars(words[1].data(), words[1].data() + words[1].size(), worker);
  if (error != std::errc() || end != words[1].data() + words[1].size()) {
    // append(), not operator+: GCC 12 warns falsely (-Wrestrict) on "'" + std::string.
    return bad(
        std::string("'").append(printable(words[1])).append("' is not a worker number or 'all'"));
  }
  if (worker >= worker_count) {
    return bad("there is no worker " + std::to_string(worker) + "; workers are 0 to " +
               std::to_string(worker_count - 1));
  }
  command.worker = worker;
  return command;
}

}  // namespace synthfarm
