// The upgrade's subprotocol negotiation, the Sec-WebSocket-Key check and session ids.
#define CAF_SUITE handshake
#include "test_dsl.hpp"

#include "net/ws/handshake.hpp"

#include <set>

using namespace actorcable::net;

CAF_TEST(the extended protocol wins and anything else is unsupported) {
  CAF_CHECK_EQUAL(negotiate(""), "");
  CAF_CHECK_EQUAL(negotiate("actioncable-v1-json"), "actioncable-v1-json");
  CAF_CHECK_EQUAL(negotiate("actioncable-v1-json, actioncable-v1-ext-json"), "actioncable-v1-ext-json");
  CAF_CHECK_EQUAL(negotiate(" actioncable-v1-ext-json ,actioncable-unsupported"), "actioncable-v1-ext-json");
  CAF_CHECK_EQUAL(negotiate("graphql-ws"), "actioncable-unsupported");
  CAF_CHECK_EQUAL(negotiate("actioncable-v1-jsonx"), "actioncable-unsupported");
}

CAF_TEST(a websocket key is the base64 of sixteen bytes) {
  CAF_CHECK(valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ=="));
  CAF_CHECK(!valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ="));
  CAF_CHECK(!valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ=x"));
  CAF_CHECK(!valid_websocket_key("dGhlIHNhbXBsZSBub25j*Q=="));
  CAF_CHECK(!valid_websocket_key(""));
  CAF_CHECK(!valid_websocket_key("' OR 1=1 --"));
}

CAF_TEST(session ids are long and do not repeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto id = random_id();
    CAF_CHECK_EQUAL(id.size(), 24u);
    seen.insert(id);
  }
  CAF_CHECK_EQUAL(seen.size(), 1000u);
}
