#include "coordinator/control/osc_command.h"

#include <charconv>

#include "shared/number_text.h"

namespace synthfarm {
namespace {

using Line = std::variant<std::string, std::string>;  // index 0: the line; 1: the reason

bool is_string(const OscArgument& argument) {
  return argument.type == 's' || argument.type == 'S';
}

// One word of a line: a string that holds no blank or control character (it could otherwise
// add words to the line, or hide them).
bool is_one_word(const OscArgument& argument) {
  if (!is_string(argument) || argument.text.empty()) return false;
  for (const char c : argument.text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  }
  return true;
}

// The shortest decimal text that reads back as exactly `value` ("nan" and "inf" included:
// the grammar refuses them as not finite, with its own message).
std::string exact_decimal(double value) {
  char text[64];
  const auto result = std::to_chars(text, text + sizeof text, value);
  return std::string(text, result.ptr);
}

std::string printable(std::string_view text) {
  std::string shown;
  for (const char c : text.substr(0, 80)) {
    const auto byte = static_cast<unsigned char>(c);
    shown += (byte >= 0x20 && byte < 0x7f) ? c : '?';
  }
  if (text.size() > 80) shown += "...";
  return shown;
}

Line refuse(const OscMessage& message, const std::string& why) {
  return Line{std::in_place_index<1>, "osc: '" + printable(message.address) + " ," +
                                          printable(message.type_tags()) + "': " + why + " (" +
                                          kOscHelp + ")"};
}

// The worker word: an int32 index as a number (a negative one is refused by the grammar), or
// the string "all".
std::optional<std::string> worker_word(const OscArgument& argument) {
  if (argument.type == 'i') return std::to_string(argument.integer);
  if (is_string(argument) && argument.text == "all") return "all";
  return std::nullopt;
}

std::optional<std::string> real_word(const OscArgument& argument) {
  if (argument.type == 'f' || argument.type == 'd') return exact_decimal(argument.real);
  return std::nullopt;
}

std::optional<std::string> seed_word(const OscArgument& argument) {
  if (argument.type == 'i' || argument.type == 'h') return std::to_string(argument.integer);
  if (is_one_word(argument)) return argument.text;
  return std::nullopt;
}

}  // namespace

std::variant<std::string, std::string> osc_control_line(const OscMessage& message) {
  if (!message.address.starts_with(kOscAddressPrefix)) return refuse(message, "unknown address");
  const std::string_view verb = std::string_view(message.address).substr(kOscAddressPrefix.size());
  const std::vector<OscArgument>& arguments = message.arguments;
  const std::string verb_text(verb);

  if (verb == "status" || verb == "quit") {
    if (!arguments.empty()) return refuse(message, "takes no arguments");
    return Line{std::in_place_index<0>, verb_text};
  }
  if (verb == "report") {
    if (arguments.size() != 1 || !is_string(arguments[0])) {
      return refuse(message, "takes one string, the file to write");
    }
    return Line{std::in_place_index<0>, "report " + arguments[0].text};
  }
  if (verb == "gain") {
    const auto value = arguments.size() == 1 ? real_word(arguments[0]) : std::nullopt;
    if (!value) return refuse(message, "takes one float32 or float64, the level in dB");
    return Line{std::in_place_index<0>, "gain " + *value};
  }
  if (verb == "stop" || verb == "play") {
    const auto worker = arguments.size() == 1 ? worker_word(arguments[0]) : std::nullopt;
    if (!worker) return refuse(message, "takes one worker: an int32 index or the string \"all\"");
    return Line{std::in_place_index<0>, verb_text + " " + *worker};
  }
  if (verb == "set") {
    const bool shaped = arguments.size() == 3;
    const auto worker = shaped ? worker_word(arguments[0]) : std::nullopt;
    const auto value = shaped ? real_word(arguments[2]) : std::nullopt;
    if (!worker || !is_one_word(arguments[1]) || !value) {
      return refuse(message,
                    "takes a worker (an int32 index or \"all\"), \"feedback\" or \"mul\", and a "
                    "float32 or float64 value");
    }
    return Line{std::in_place_index<0>, "set " + *worker + " " + arguments[1].text + " " + *value};
  }
  if (verb == "reseed") {
    const bool shaped = arguments.size() == 2;
    const auto worker = shaped ? worker_word(arguments[0]) : std::nullopt;
    const auto seed = shaped ? seed_word(arguments[1]) : std::nullopt;
    if (!worker || !seed) {
      return refuse(message,
                    "takes a worker (an int32 index or \"all\") and a seed (an int32, an int64 or "
                    "a string of digits)");
    }
    return Line{std::in_place_index<0>, "reseed " + *worker + " " + *seed};
  }
  return refuse(message, "unknown address");
}

std::variant<ControlCommand, std::string> parse_osc_command(const OscMessage& message,
                                                            std::uint32_t worker_count) {
  const auto line = osc_control_line(message);
  if (line.index() == 1) return std::get<1>(line);
  return parse_control_line(std::get<0>(line), worker_count);
}

OscMessage osc_reply(std::string_view address, bool ok, std::string_view text) {
  return {std::string(kOscReplyAddress),
          {OscArgument::string(std::string(address)), OscArgument::int32(ok ? 1 : 0),
           OscArgument::string(std::string(text))}};
}

std::optional<OscReply> read_osc_reply(const OscMessage& message) {
  if (message.address != kOscReplyAddress || message.type_tags() != "sis") return std::nullopt;
  return OscReply{message.arguments[0].text, message.arguments[1].integer != 0,
                  message.arguments[2].text};
}

OscMessage osc_message_from_words(const std::vector<std::string>& words) {
  OscMessage message;
  message.address = std::string(kOscAddressPrefix) + (words.empty() ? "" : words[0]);
  const std::string_view verb = words.empty() ? "" : words[0];
  if (verb == "report") {
    std::string path;
    for (std::size_t k = 1; k < words.size(); ++k) path += (k > 1 ? " " : "") + words[k];
    message.arguments.push_back(OscArgument::string(path));
    return message;
  }
  for (std::size_t k = 1; k < words.size(); ++k) {
    const std::string& word = words[k];
    const bool worker_position = k == 1 && verb != "gain";
    const bool value_position = (verb == "gain" && k == 1) || (verb == "set" && k == 3);
    std::int32_t index = 0;
    const auto [end, error] = std::from_chars(word.data(), word.data() + word.size(), index);
    const bool is_int32 = error == std::errc() && end == word.data() + word.size();
    const std::optional<double> real = parse_finite_number(word);
    if (worker_position && is_int32) {
      message.arguments.push_back(OscArgument::int32(index));
    } else if (value_position && real) {
      message.arguments.push_back(OscArgument::float64(*real));
    } else {
      message.arguments.push_back(OscArgument::string(word));
    }
  }
  return message;
}

}  // namespace synthfarm
