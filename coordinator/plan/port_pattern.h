#pragma once
// --connect's regular expression, checked before anything starts. libjack's jack_get_ports
// compiles it with glibc's regcomp (POSIX extended), whose compiler copies the tree of a repeated
// piece once per repetition: stacked or nested repetitions (c++++, ((a+)+)+, (a{255}){255}) grow
// it exponentially, and a 70-byte pattern took more than 2 GB (found by the command_line fuzzer).
// Port names are short and their patterns simple, so what could blow up is refused with a
// reason instead; what remains, regcomp itself judges.

#include <optional>
#include <string>
#include <string_view>

namespace synthfarm {

// Longer than any JACK port name ("client:port", at most 320 bytes with the terminator) would
// still be a valid pattern, but a pattern for port names needs far less.
inline constexpr std::size_t kMaxPortPatternBytes = 256;
// Largest count in an interval {m,n}: POSIX only promises 255 (RE_DUP_MAX).
inline constexpr int kMaxPortPatternRepeat = 255;

// Thread: any (pure). std::nullopt when the pattern is acceptable, else why not, in words that
// follow "'<pattern>' ": e.g. "repeats a group that repeats inside it (...)".
std::optional<std::string> port_pattern_problem(std::string_view pattern);

}  // namespace synthfarm
