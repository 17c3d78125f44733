// The ActionCable command parser and SyncChannel identifiers on arbitrary client frames; an
// identifier is echoed back byte for byte in the confirmation (SPEC §5).
#include "net/cable/cable_protocol.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view frame(reinterpret_cast<const char*>(data), size);
  auto parsed = actorcable::net::parse_command(frame);
  if (parsed.command) {
    (void)actorcable::net::parse_identifier(parsed.command->identifier);
    (void)actorcable::net::perform_action(parsed.command->data);
    auto& id = parsed.command->identifier;
    auto echoed = boost::json::parse(actorcable::net::confirm_frame(id)).as_object();
    if (echoed.at("identifier").as_string() != id)
      std::abort();
  }
  (void)actorcable::net::parse_identifier(frame);
  return 0;
}
