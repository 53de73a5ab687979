#pragma once
// Which oscillators exist and which worker plays each: frequencies from a file or from the
// seeded generator, dealt to the workers in contiguous groups.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace synthfarm {

struct WorkerGroup {
  std::uint64_t first_oscillator = 0;
  std::uint32_t oscillator_count = 0;
};

// Contiguous groups, as even as possible: the first (total % workers) groups get one more.
// worker_count >= 1 (the command line guarantees it); 0 gives no groups.
std::vector<WorkerGroup> deal_contiguous_groups(std::uint64_t oscillator_total,
                                                std::uint32_t worker_count);

// `count` draws of PythonRandom(seed).uniform(min_hz, max_hz), in order.
std::vector<double> draw_frequencies_hz(std::uint64_t seed, std::uint64_t count, double min_hz,
                                        double max_hz);

// One frequency in Hz per line. Blank lines and lines starting with '#' are skipped; anything
// else that is not a whole finite number is an error naming the file and line. May block
// (file I/O). Returns nullopt and sets `error` on failure.
std::optional<std::vector<double>> read_frequency_file(const std::string& path, std::string& error);

// Thread: any. Pure: the parsing half of read_frequency_file, over the file's whole text (split
// at '\n'; a last line without one counts). `source` names the file in messages. A bad line is
// quoted in the message cut to 80 bytes with anything unprintable as '?': the file may hold
// anything, and the message goes to a terminal.
std::optional<std::vector<double>> parse_frequency_text(std::string_view text,
                                                        std::string_view source,
                                                        std::string& error);

}  // namespace synthfarm
