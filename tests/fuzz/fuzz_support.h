#pragma once
// What the fuzz targets share (tests/fuzz/README.md): the check that turns a broken property
// into a crash, and the input read as a command line.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

// A property of the code under test that does not hold: says which and aborts, which libFuzzer
// reports as a crash (and saves the input) and the corpus replay as a failed test. Not assert():
// NDEBUG must not turn the checks off.
#define FUZZ_CHECK(condition)                                                                      \
  do {                                                                                             \
    if (!(condition)) {                                                                            \
      std::fprintf(stderr, "%s:%d: property does not hold: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)

namespace synthfarm::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The input as a command line: words separated by '\0' (the one byte an argv entry cannot
// hold), after `program` as argv[0]. An input ending in '\0' ends with an empty word.
class FuzzedArguments {
 public:
  FuzzedArguments(std::string program, std::string_view input) {
    words_.push_back(std::move(program));
    std::size_t start = 0;
    while (true) {
      const std::size_t end = input.find('\0', start);
      words_.emplace_back(input.substr(start, end == std::string_view::npos ? end : end - start));
      if (end == std::string_view::npos) break;
      start = end + 1;
    }
    if (input.empty()) words_.pop_back();  // no input: no argument, not one empty one
    for (const std::string& word : words_) argv_.push_back(word.c_str());
    argv_.push_back(nullptr);
  }
  FuzzedArguments(const FuzzedArguments&) = delete;
  FuzzedArguments& operator=(const FuzzedArguments&) = delete;

  int argc() const { return static_cast<int>(words_.size()); }
  const char* const* argv() const { return argv_.data(); }
  const std::vector<std::string>& words() const { return words_; }

 private:
  std::vector<std::string> words_;
  std::vector<const char*> argv_;
};

// Printable ASCII only (and '\n' where `newlines` allows it): a message printed on a terminal
// or sent as one line of a reply must not carry control bytes from the input.
inline bool is_printable(std::string_view text, bool newlines = false) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 || byte >= 0x7f) && !(newlines && c == '\n')) return false;
  }
  return true;
}

}  // namespace synthfarm::fuzz
