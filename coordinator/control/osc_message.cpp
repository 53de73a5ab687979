#include "coordinator/control/osc_message.h"

#include <cstring>

#include <lo/lo_lowlevel.h>

#include <memory>

namespace synthfarm {
namespace {

struct LoMessageFree {
  void operator()(lo_message message) const noexcept { lo_message_free(message); }
};
using LoMessage = std::unique_ptr<std::remove_pointer_t<lo_message>, LoMessageFree>;

}  // namespace

std::string OscMessage::type_tags() const {
  std::string tags;
  for (const OscArgument& argument : arguments) tags += argument.type;
  return tags;
}

std::optional<OscMessage> decode_osc_message(const void* data, std::size_t size) {
  // liblo checks every length, alignment and terminator against `size` (it decodes whatever
  // the network sends its own servers); it copies what it keeps, so `data` stays untouched.
  if (size == 0) return std::nullopt;
  int result = 0;
  const LoMessage decoded(lo_message_deserialise(const_cast<void*>(data), size, &result));
  if (!decoded) return std::nullopt;
  OscMessage message;
  message.address = static_cast<const char*>(data);  // validated: terminated within `size`
  const char* types = lo_message_get_types(decoded.get());
  lo_arg** values = lo_message_get_argv(decoded.get());
  const int count = lo_message_get_argc(decoded.get());
  for (int k = 0; k < count; ++k) {
    OscArgument argument;
    argument.type = types[k];
    // liblo's argument pointers are only 4-byte aligned (OSC's own alignment), and lo_arg is a
    // union with 8-byte members: reading through it is undefined (UBSan reports it). Copy the
    // bytes out instead.
    const auto* bytes = reinterpret_cast<const char*>(values[k]);
    switch (argument.type) {
      case 'i': {
        std::int32_t v = 0;
        std::memcpy(&v, bytes, sizeof v);
        argument.integer = v;
        break;
      }
      case 'h': {
        std::int64_t v = 0;
        std::memcpy(&v, bytes, sizeof v);
        argument.integer = v;
        break;
      }
      case 'f': {
        float v = 0;
        std::memcpy(&v, bytes, sizeof v);
        argument.real = v;
        break;
      }
      case 'd': {
        double v = 0;
        std::memcpy(&v, bytes, sizeof v);
        argument.real = v;
        break;
      }
      case 's':
      case 'S':
        argument.text = bytes;  // NUL-terminated within the message (liblo validated it)
        break;
      default:
        break;
    }
    message.arguments.push_back(std::move(argument));
  }
  return message;
}

std::vector<unsigned char> encode_osc_message(const OscMessage& message) {
  const LoMessage built(lo_message_new());
  if (!built) return {};
  for (const OscArgument& argument : message.arguments) {
    switch (argument.type) {
      case 'i':
        lo_message_add_int32(built.get(), static_cast<std::int32_t>(argument.integer));
        break;
      case 'h':
        lo_message_add_int64(built.get(), argument.integer);
        break;
      case 'f':
        lo_message_add_float(built.get(), static_cast<float>(argument.real));
        break;
      case 'd':
        lo_message_add_double(built.get(), argument.real);
        break;
      case 's':
        lo_message_add_string(built.get(), argument.text.c_str());
        break;
      case 'S':
        lo_message_add_symbol(built.get(), argument.text.c_str());
        break;
      default:
        break;
    }
  }
  std::size_t size = lo_message_length(built.get(), message.address.c_str());
  std::vector<unsigned char> bytes(size);
  lo_message_serialise(built.get(), message.address.c_str(), bytes.data(), &size);
  bytes.resize(size);
  return bytes;
}

}  // namespace synthfarm
