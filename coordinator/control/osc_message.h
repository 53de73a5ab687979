#pragma once
// OSC messages as plain values, and their bytes (OSC 1.0, through liblo's serialiser): what the
// OSC server reads from a datagram and what `synthfarm ctl --osc` sends, kept apart from any
// socket so that the mapping to commands can be tested without one.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace synthfarm {

// One argument. `type` is its OSC type tag; the value sits in the member that tag names:
//   'i' int32, 'h' int64 -> integer;  'f' float32, 'd' float64 -> real (a float32 widened
//   exactly);  's' string, 'S' symbol -> text.  Any other tag ('T', 'b', 'm', ...) is kept
//   with no value, so that a refusal can name it.
struct OscArgument {
  char type = 'N';
  std::int64_t integer = 0;
  double real = 0.0;
  std::string text;

  static OscArgument int32(std::int32_t value) { return {'i', value, 0.0, {}}; }
  static OscArgument int64(std::int64_t value) { return {'h', value, 0.0, {}}; }
  static OscArgument float32(float value) { return {'f', 0, value, {}}; }
  static OscArgument float64(double value) { return {'d', 0, value, {}}; }
  static OscArgument string(std::string value) { return {'s', 0, 0.0, std::move(value)}; }
};

struct OscMessage {
  std::string address;  // "/synthfarm/gain"
  std::vector<OscArgument> arguments;

  // Their type tags in order, "" for none ("sif").
  std::string type_tags() const;
};

// Thread: any. Pure; allocates. The message a datagram holds, or nullopt when the bytes are not
// one OSC message (a bundle, a truncated or misaligned message, text, anything else). Never
// reads past `size`.
std::optional<OscMessage> decode_osc_message(const void* data, std::size_t size);

// Thread: any. Pure; allocates. The datagram for `message`. Only the tags decode_osc_message
// gives values to are encoded ('i', 'h', 'f', 'd', 's', 'S'); anything else is left out.
std::vector<unsigned char> encode_osc_message(const OscMessage& message);

}  // namespace synthfarm
