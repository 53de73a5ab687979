#include "shared/number_text.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace synthfarm {

std::optional<double> parse_finite_number(const std::string& text) {
  errno = 0;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE ||
      !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

}  // namespace synthfarm
