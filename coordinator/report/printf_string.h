#pragma once
// printf formatting into a std::string, for the report formatters: their numbers must read
// exactly as the C formats have always printed them (%g, %.1f), which scripts and tests match.

#include <cstdio>
#include <string>

namespace synthfarm {

// Thread: any. Allocates. `format`'s conversions must match `values`: unlike printf's, this
// call is not checked by the compiler, so keep formats literal and next to their arguments.
template <typename... Values>
std::string printf_string(const char* format, Values... values) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-security"
  const int length = std::snprintf(nullptr, 0, format, values...);
  if (length <= 0) return {};
  std::string text(static_cast<std::size_t>(length), '\0');
  std::snprintf(text.data(), text.size() + 1, format, values...);
#pragma GCC diagnostic pop
  return text;
}

}  // namespace synthfarm
