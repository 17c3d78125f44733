// The WebSocket upgrade's negotiation (RFC 6455, ActionCable subprotocols) and session ids.
#pragma once
#include <string>
#include <string_view>

namespace actorcable::net {

inline constexpr std::string_view plain_protocol = "actioncable-v1-json";
inline constexpr std::string_view ext_protocol = "actioncable-v1-ext-json";
inline constexpr std::string_view unsupported_protocol = "actioncable-unsupported";

// The subprotocol to answer an offered list with: the extended protocol when offered, else the
// plain one, else actioncable-unsupported; empty when the client offered none.
std::string negotiate(std::string_view offered);

// A Sec-WebSocket-Key is the base64 encoding of 16 bytes (RFC 6455 §4.1).
bool valid_websocket_key(std::string_view key);

// A session id doubles as the key to restore a session: unguessable, from the CSPRNG.
std::string random_id();

}  // namespace actorcable::net
