// Fuzz target: a UDP datagram as the OSC server reads it: decode_osc_message
// (coordinator/control/osc_message.h), then parse_osc_command (osc_command.h), for 1 to 256
// workers. Input: one byte, the worker count less one, then the datagram.
//
// Properties: neither reads past the datagram or throws; a refusal is one printable line (it is
// sent back inside the reply and printed on stderr); an accepted command's worker is below the
// worker count; a decoded message encodes to bytes that decode to the same message (what the
// server answers with goes through the same codec); and the reply to any address is itself a
// decodable /synthfarm/reply ,sis that reads back as sent.

#include <cstring>
#include <string>

#include "coordinator/control/osc_command.h"
#include "coordinator/control/osc_message.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

bool printable_line(const std::string& text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return false;
  }
  return true;
}

bool same_message(const synthfarm::OscMessage& a, const synthfarm::OscMessage& b) {
  if (a.address != b.address || a.arguments.size() != b.arguments.size()) return false;
  for (std::size_t i = 0; i < a.arguments.size(); ++i) {
    const auto& x = a.arguments[i];
    const auto& y = b.arguments[i];
    if (x.type != y.type || x.integer != y.integer || x.text != y.text) return false;
    // Compared as bits: a NaN argument must come back as the same NaN.
    if (std::memcmp(&x.real, &y.real, sizeof x.real) != 0) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace synthfarm;
  if (size < 1) return 0;
  const std::uint32_t workers = std::uint32_t{data[0]} + 1;
  const auto message = decode_osc_message(data + 1, size - 1);
  if (!message) return 0;

  const auto parsed = parse_osc_command(*message, workers);
  if (const auto* why = std::get_if<std::string>(&parsed)) {
    FUZZ_CHECK(!why->empty() && printable_line(*why));
  } else {
    const auto& command = std::get<ControlCommand>(parsed);
    FUZZ_CHECK(!command.worker || *command.worker < workers);
  }

  // Only the tags the codec gives values to survive a round trip; the rest are dropped.
  bool all_valued = true;
  for (const auto& argument : message->arguments) {
    all_valued = all_valued && std::string("ihfdsS").find(argument.type) != std::string::npos;
  }
  if (all_valued) {
    const auto bytes = encode_osc_message(*message);
    const auto again = decode_osc_message(bytes.data(), bytes.size());
    FUZZ_CHECK(again && same_message(*message, *again));
  }

  const OscMessage reply = osc_reply(message->address, true, "control: status\n");
  const auto reply_bytes = encode_osc_message(reply);
  const auto reply_back = decode_osc_message(reply_bytes.data(), reply_bytes.size());
  FUZZ_CHECK(reply_back.has_value());
  const auto read = read_osc_reply(*reply_back);
  FUZZ_CHECK(read && read->address == message->address && read->ok);
  return 0;
}
