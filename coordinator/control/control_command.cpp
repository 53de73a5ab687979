#include "coordinator/control/control_command.h"

#include <charconv>
#include <sstream>
#include <vector>

#include "shared/number_text.h"

namespace synthfarm {
namespace {

constexpr const char* kBlanks = " \t\r";

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t position = 0;
  while (position < line.size()) {
    const auto start = line.find_first_not_of(kBlanks, position);
    if (start == std::string_view::npos) break;
    const auto end = line.find_first_of(kBlanks, start);
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

std::string quoted(std::string_view word) {
  // append(), not operator+: GCC 12 warns falsely (-Wrestrict) on "'" + std::string.
  return std::string("'").append(printable(word)).append("'");
}

std::string format_range(double min, double max) {
  std::ostringstream text;
  text << min << " to " << max;
  return text.str();
}

// A worker number below worker_count or "all" (nullopt), else the reason it is neither.
std::variant<std::optional<std::uint32_t>, std::string> parse_worker(std::string_view word,
                                                                     std::uint32_t worker_count) {
  if (word == "all") return std::optional<std::uint32_t>{};
  std::uint32_t worker = 0;
  const auto [end, error] = std::from_chars(word.data(), word.data() + word.size(), worker);
  if (error != std::errc() || end != word.data() + word.size()) {
    return quoted(word) + " is not a worker number or 'all'";
  }
  if (worker >= worker_count) {
    return "there is no worker " + std::to_string(worker) + "; workers are 0 to " +
           std::to_string(worker_count - 1);
  }
  return std::optional<std::uint32_t>{worker};
}

// A finite number within [min, max] (-0 is taken as 0), else the reason it is not.
std::variant<double, std::string> parse_value(std::string_view word, const char* what, double min,
                                              double max, const char* why_range = "") {
  const std::optional<double> value = parse_finite_number(std::string(word));
  if (!value) return quoted(word) + " is not a finite number (" + what + ")";
  if (*value < min || *value > max) {
    return std::string(what) + " " + printable(word) + " is out of range (" +
           format_range(min, max) + why_range + ")";
  }
  return *value + 0.0;  // -0 + 0 is +0
}

// Digits only, like the command line's --seed: no sign, no blanks, no exponent.
std::variant<std::uint64_t, std::string> parse_seed(std::string_view word) {
  std::uint64_t seed = 0;
  const bool digits_only = word.find_first_not_of("0123456789") == std::string_view::npos;
  const auto [end, error] = std::from_chars(word.data(), word.data() + word.size(), seed);
  if (!digits_only || error == std::errc::invalid_argument || end != word.data() + word.size()) {
    return quoted(word) + " is not a seed (a whole number, 0 to 18446744073709551615)";
  }
  if (error == std::errc::result_out_of_range) {
    return "seed " + printable(word) + " is out of range (0 to 18446744073709551615)";
  }
  return seed;
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
  const std::string_view verb = words[0];
  ControlCommand command;

  if (verb == "status" || verb == "quit") {
    if (words.size() != 1) return bad(quoted(verb) + " takes no argument");
    command.verb = verb == "quit" ? ControlCommand::Verb::kQuit : ControlCommand::Verb::kStatus;
    return command;
  }

  if (verb == "report") {
    // The rest of the line is the file name, spaces and all, trimmed at both ends.
    std::string_view rest = line.substr(words[0].data() + words[0].size() - line.data());
    const auto first = rest.find_first_not_of(kBlanks);
    if (first == std::string_view::npos) return bad("'report' needs a file name: report FILE");
    rest = rest.substr(first, rest.find_last_not_of(kBlanks) - first + 1);
    command.verb = ControlCommand::Verb::kReport;
    command.path = std::string(rest);
    return command;
  }

  if (verb == "gain") {
    if (words.size() != 2) return bad("give one level in dB: gain <dB>, e.g. gain -6");
    auto value = parse_value(words[1], "gain in dB", kMinGainDb, kMaxGainDb);
    if (auto* why = std::get_if<std::string>(&value)) return bad(*why);
    command.verb = ControlCommand::Verb::kGain;
    command.value = std::get<double>(value);
    return command;
  }

  const char* usage = nullptr;
  std::size_t expected_words = 2;
  if (verb == "stop" || verb == "play") {
    command.verb = verb == "stop" ? ControlCommand::Verb::kStop : ControlCommand::Verb::kPlay;
    usage = "give one worker number or 'all'";
  } else if (verb == "set") {
    command.verb = ControlCommand::Verb::kSet;
    usage = "set <worker|all> feedback|mul <value>, e.g. set all feedback 0.2";
    expected_words = 4;
  } else if (verb == "reseed") {
    command.verb = ControlCommand::Verb::kReseed;
    usage = "reseed <worker|all> <seed>, e.g. reseed 0 42";
    expected_words = 3;
  } else {
    return bad("unknown command");
  }
  if (words.size() != expected_words) return bad(usage);
  auto worker = parse_worker(words[1], worker_count);
  if (auto* why = std::get_if<std::string>(&worker)) return bad(*why);
  command.worker = std::get<std::optional<std::uint32_t>>(worker);

  if (command.verb == ControlCommand::Verb::kSet) {
    std::variant<double, std::string> value;
    if (words[2] == "feedback") {
      command.parameter = WorkerParameter::kFeedback;
      value = parse_value(words[3], "feedback", kMinFeedback, kMaxFeedback,
                          "; pyo clips feedback there");
    } else if (words[2] == "mul") {
      command.parameter = WorkerParameter::kMul;
      value = parse_value(words[3], "mul", kMinMul, kMaxMul);
    } else {
      return bad(quoted(words[2]) + " is not a parameter; set feedback or mul");
    }
    if (auto* why = std::get_if<std::string>(&value)) return bad(*why);
    command.value = std::get<double>(value);
  } else if (command.verb == ControlCommand::Verb::kReseed) {
    auto seed = parse_seed(words[2]);
    if (auto* why = std::get_if<std::string>(&seed)) return bad(*why);
    command.seed = std::get<std::uint64_t>(seed);
  }
  return command;
}

}  // namespace synthfarm
