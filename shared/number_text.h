#pragma once
// Decimal numbers typed by people: on the command line, on the control FIFO, in files.

#include <optional>
#include <string>

namespace synthfarm {

// Thread: any. Pure.
// The whole of `text` as a finite decimal number, or nullopt ("", "1x", "nan", "1e999").
std::optional<double> parse_finite_number(const std::string& text);

}  // namespace synthfarm
