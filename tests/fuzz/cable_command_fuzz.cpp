// The ActionCable command parser and SyncChannel identifiers on arbitrary client frames.
#include "net/cable/cable_protocol.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view frame(reinterpret_cast<const char*>(data), size);
  auto parsed = actorcable::net::parse_command(frame);
  if (parsed.command) {
    auto target = actorcable::net::parse_identifier(parsed.command->identifier);
    if (target) {
      auto echoed = actorcable::net::confirm_frame(parsed.command->identifier);
      (void)echoed;
    }
  }
  (void)actorcable::net::parse_identifier(frame);
  return 0;
}
