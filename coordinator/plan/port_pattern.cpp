#include "coordinator/plan/port_pattern.h"

#include <regex.h>

#include <vector>

namespace synthfarm {
namespace {

// What the token before the current position was, as far as repetition is concerned.
enum class Previous { kNothing, kAtom, kGroupWithRepeat, kRepeat };

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Reads the interval starting at pattern[at] == '{'; returns the index past '}', or npos with
// `why` set. ERE intervals: {m}, {m,} or {m,n}.
std::size_t read_interval(std::string_view pattern, std::size_t at, std::string& why) {
  std::size_t i = at + 1;
  for (int number = 0; number < 2; ++number) {
    int value = 0;
    const std::size_t digits_from = i;
    while (i < pattern.size() && is_digit(pattern[i])) {
      value = value * 10 + (pattern[i] - '0');
      if (value > kMaxPortPatternRepeat) {
        why = "has a repetition count above " + std::to_string(kMaxPortPatternRepeat);
        return std::string_view::npos;
      }
      ++i;
    }
    if (number == 0 && i == digits_from) break;  // "{" without a count: regcomp says so
    if (i < pattern.size() && pattern[i] == ',' && number == 0) {
      ++i;
      continue;
    }
    break;
  }
  if (i >= pattern.size() || pattern[i] != '}') return i;  // malformed: regcomp names it
  return i + 1;
}

// Index past the bracket expression starting at pattern[at] == '['. A ']' first (after an
// optional '^') is a member, and [: :], [. .], [= =] hold their own ']'.
std::size_t skip_bracket(std::string_view pattern, std::size_t at) {
  std::size_t i = at + 1;
  if (i < pattern.size() && pattern[i] == '^') ++i;
  if (i < pattern.size() && pattern[i] == ']') ++i;
  while (i < pattern.size() && pattern[i] != ']') {
    if (pattern[i] == '[' && i + 1 < pattern.size() &&
        (pattern[i + 1] == ':' || pattern[i + 1] == '.' || pattern[i + 1] == '=')) {
      const char kind = pattern[i + 1];
      i += 2;
      while (i + 1 < pattern.size() && !(pattern[i] == kind && pattern[i + 1] == ']')) ++i;
      i += 2;
      continue;
    }
    ++i;
  }
  return i + 1;  // past the end when unterminated: regcomp names it
}

}  // namespace

std::optional<std::string> port_pattern_problem(std::string_view pattern) {
  if (pattern.size() > kMaxPortPatternBytes) {
    return "is longer than " + std::to_string(kMaxPortPatternBytes) +
           " bytes; port names are shorter than that";
  }
  // One entry per open group: whether something inside it repeats.
  std::vector<bool> group_repeats;
  Previous previous = Previous::kNothing;
  std::size_t i = 0;
  while (i < pattern.size()) {
    const char c = pattern[i];
    if (c == '*' || c == '+' || c == '?' || c == '{') {
      if (previous == Previous::kRepeat) {
        return std::string(
            "repeats a repetition (adjacent *, +, ? or {}: undefined in POSIX, and "
            "exponentially large once compiled); write one repetition");
      }
      if (previous == Previous::kGroupWithRepeat) {
        return std::string(
            "repeats a group that repeats inside it (exponentially large once "
            "compiled); repeat the group or what is inside it, not both");
      }
      if (c == '{') {
        std::string why;
        i = read_interval(pattern, i, why);
        if (i == std::string_view::npos) return why;
      } else {
        ++i;
      }
      if (!group_repeats.empty()) group_repeats.back() = true;
      previous = Previous::kRepeat;
      continue;
    }
    if (c == '(') {
      group_repeats.push_back(false);
      previous = Previous::kNothing;
      ++i;
      continue;
    }
    if (c == ')' && !group_repeats.empty()) {
      const bool repeats = group_repeats.back();
      group_repeats.pop_back();
      if (repeats && !group_repeats.empty()) group_repeats.back() = true;
      previous = repeats ? Previous::kGroupWithRepeat : Previous::kAtom;
      ++i;
      continue;
    }
    if (c == '|' || c == '^') {
      previous = Previous::kNothing;
      ++i;
      continue;
    }
    if (c == '[') {
      i = skip_bracket(pattern, i);
    } else if (c == '\\') {
      i += 2;
    } else {
      ++i;
    }
    previous = Previous::kAtom;
  }
  regex_t compiled;
  // regcomp reads a C string: an embedded NUL would hide what follows it from the check.
  const std::string text(pattern);
  if (text.find('\0') != std::string::npos) return std::string("holds a NUL byte");
  if (const int error = regcomp(&compiled, text.c_str(), REG_EXTENDED | REG_NOSUB); error != 0) {
    char message[128];
    regerror(error, &compiled, message, sizeof message);
    return "is not a POSIX extended regular expression (" + std::string(message) + ")";
  }
  regfree(&compiled);
  return std::nullopt;
}

}  // namespace synthfarm
