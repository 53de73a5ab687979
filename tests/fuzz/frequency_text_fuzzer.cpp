// Fuzz target: the frequency file's text, parse_frequency_text (coordinator/plan/
// frequency_plan.h; read_frequency_file reads the file and hands its text to it). Input: the
// file's bytes.
//
// Properties: what is accepted is one finite number per line that is neither blank nor a '#'
// comment, and at least one; a refusal is one printable line of bounded length whatever the
// file holds (it goes to a terminal).

#include <cmath>
#include <string>

#include "coordinator/plan/frequency_plan.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

// Lines holding something other than blanks that do not start with '#', counted independently
// of the parser.
std::size_t number_lines(std::string_view text) {
  std::size_t count = 0;
  bool in_blanks = true;  // only blanks so far on this line
  bool counted = false;
  for (const char c : text) {
    if (c == '\n') {
      in_blanks = true;
      counted = false;
    } else if (in_blanks && (c == ' ' || c == '\t' || c == '\r')) {
      continue;
    } else if (in_blanks) {
      in_blanks = false;
      if (c != '#' && !counted) {
        ++count;
        counted = true;
      }
    }
  }
  return count;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace synthfarm;
  const std::string_view text = fuzz::as_text(data, size);
  std::string error;
  const auto frequencies = parse_frequency_text(text, "fuzz.freqs", error);
  if (!frequencies) {
    FUZZ_CHECK(error.rfind("--freqs-file: ", 0) == 0);
    FUZZ_CHECK(fuzz::is_printable(error));
    FUZZ_CHECK(error.size() <= 200);
    return 0;
  }
  FUZZ_CHECK(!frequencies->empty());
  FUZZ_CHECK(frequencies->size() == number_lines(text));
  for (const double frequency : *frequencies) FUZZ_CHECK(std::isfinite(frequency));
  return 0;
}
