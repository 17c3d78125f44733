// The client frames a connection parses itself after the handshake (RFC 6455): masked frames,
// fragments, control frames between fragments, and refusals with the right close code.
#define CAF_SUITE ws_frames
#include "test_dsl.hpp"

#include "net/ws/ws_frames.hpp"

using namespace actorcable::net;

namespace {

// A client frame: masked with a fixed key.
std::string client_frame(int opcode, const std::string& payload, bool fin = true, bool mask = true) {
  std::string out;
  out += static_cast<char>((fin ? 0x80 : 0) | opcode);
  auto m = mask ? 0x80 : 0;
  auto n = payload.size();
  if (n < 126) {
    out += static_cast<char>(m | n);
  } else if (n < 65536) {
    out += static_cast<char>(m | 126);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xFF);
  } else {
    out += static_cast<char>(m | 127);
    for (int i = 7; i >= 0; --i)
      out += static_cast<char>((static_cast<std::uint64_t>(n) >> (8 * i)) & 0xFF);
  }
  const unsigned char key[4] = {0x37, 0xFA, 0x21, 0x3D};
  if (mask)
    out.append(reinterpret_cast<const char*>(key), 4);
  for (std::size_t i = 0; i < n; ++i)
    out += static_cast<char>(payload[i] ^ (mask ? key[i % 4] : 0));
  return out;
}

}  // namespace

CAF_TEST(messages come out whole wherever the bytes are split) {
  std::string wire = client_frame(1, R"({"command":"subscribe"})")
                     + client_frame(1, "frag", false) + client_frame(9, "p")
                     + client_frame(0, "ment", false) + client_frame(0, "ed é")
                     + client_frame(1, std::string(300, 'x')) + client_frame(8, "\x03\xE8" "bye");
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    ws_reader r(1024);
    std::vector<ws_reader::message> out;
    CAF_REQUIRE(r.feed(std::string_view(wire).substr(0, cut), out));
    CAF_REQUIRE(r.feed(std::string_view(wire).substr(cut), out));
    CAF_REQUIRE_EQUAL(out.size(), 5u);
    CAF_CHECK_EQUAL(out[0].payload, R"({"command":"subscribe"})");
    CAF_CHECK(out[1].type == ws_opcode::ping);
    CAF_CHECK_EQUAL(out[1].payload, "p");
    CAF_CHECK(out[2].type == ws_opcode::text);
    CAF_CHECK_EQUAL(out[2].payload, "fragmented é");
    CAF_CHECK_EQUAL(out[3].payload, std::string(300, 'x'));
    CAF_CHECK(out[4].type == ws_opcode::close);
    CAF_CHECK_EQUAL(out[4].close_code, 1000);
    CAF_CHECK_EQUAL(out[4].payload, "bye");
    CAF_CHECK_EQUAL(r.buffered(), 0u);
  }
}

CAF_TEST(violations are refused with their close code) {
  struct bad {
    std::string wire;
    std::uint16_t code;
  };
  std::vector<bad> cases = {
    {client_frame(1, "x", true, false), 1002},                      // unmasked
    {std::string("\xC1\x80\0\0\0\0", 6), 1002},                    // reserved bit
    {client_frame(3, "x"), 1002},                                   // unknown opcode
    {client_frame(9, "x", false), 1002},                            // fragmented ping
    {client_frame(9, std::string(126, 'x')), 1002},                 // control frame too long
    {client_frame(0, "x"), 1002},                                   // continuation alone
    {client_frame(1, "a", false) + client_frame(1, "b"), 1002},     // new message mid-way
    {client_frame(1, "\xFF"), 1007},                                // not UTF-8
    {client_frame(8, "\x03"), 1002},                                // close payload of one byte
    {client_frame(8, "\x03\xED"), 1002},                            // close code 1005
    {client_frame(1, std::string(1025, 'x')), 1009},                // over the limit
    {client_frame(1, std::string(600, 'x'), false) + client_frame(0, std::string(600, 'x')), 1009},
  };
  for (auto& c : cases) {
    ws_reader r(1024);
    std::vector<ws_reader::message> out;
    CAF_CHECK(!r.feed(c.wire, out));
    CAF_CHECK_EQUAL(r.error().code, c.code);
    CAF_CHECK(!r.feed(client_frame(1, "later"), out));  // nothing more after a failure
  }
}

CAF_TEST(an oversized frame is refused from its header before its payload arrives) {
  ws_reader r(65536);
  std::vector<ws_reader::message> out;
  auto header = client_frame(1, std::string(70000, 'y')).substr(0, 14);
  CAF_CHECK(!r.feed(header, out));
  CAF_CHECK_EQUAL(r.error().code, 1009);
  CAF_CHECK_EQUAL(r.error().reason, "frame exceeds 65536 bytes");
}

CAF_TEST(server frame headers use the shortest length form) {
  std::array<unsigned char, 10> h;
  CAF_CHECK_EQUAL(ws_header(h, ws_opcode::text, 125), 2u);
  CAF_CHECK_EQUAL(h[0], 0x81);
  CAF_CHECK_EQUAL(h[1], 125);
  CAF_CHECK_EQUAL(ws_header(h, ws_opcode::pong, 126), 4u);
  CAF_CHECK_EQUAL(h[0], 0x8A);
  CAF_CHECK_EQUAL(h[1], 126);
  CAF_CHECK_EQUAL(ws_header(h, ws_opcode::text, 65536), 10u);
  CAF_CHECK_EQUAL(h[1], 127);
  CAF_CHECK_EQUAL(h[7], 1);
}
