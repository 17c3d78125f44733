// WebSocket framing after the handshake (RFC 6455), server side: the client's frames parsed
// incrementally, and the headers of the server's frames. Frames are written by the session
// itself (gathered, at once when the socket takes them), so reads are parsed here too: nothing
// else writes to the socket, so a pong or a close reply never lands inside a data frame.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace actorcable::net {

enum class ws_opcode : std::uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

// Close codes used here.
namespace ws_close {
constexpr std::uint16_t normal = 1000, protocol_error = 1002, invalid_payload = 1007,
                        too_big = 1009;
}

// An unmasked, final frame's header for `payload_size` bytes; returns its length (2 to 10).
std::size_t ws_header(std::array<unsigned char, 10>& out, ws_opcode op, std::size_t payload_size);

// A close frame's payload: code and reason (the reason cut to fit a control frame).
std::string ws_close_payload(std::uint16_t code, std::string_view reason = {});

class ws_reader {
public:
  explicit ws_reader(std::size_t max_message_bytes) : max_(max_message_bytes) {}

  struct message {
    ws_opcode type;        // text, binary, ping, pong or close
    std::string payload;   // for close: the reason
    std::uint16_t close_code = 0;  // for close: 0 when the client sent none
  };
  struct failure {
    std::uint16_t code = 0;  // the close code to answer with
    std::string reason;
  };

  // Parses the bytes that arrived; appends whole messages (data messages reassembled) to `out`.
  // False on a protocol violation, an oversized message or invalid UTF-8 in a text message:
  // error() says which, and nothing more may be fed.
  bool feed(std::string_view bytes, std::vector<message>& out);
  const failure& error() const { return error_; }
  bool failed() const { return error_.code != 0; }
  // Bytes kept for an incomplete frame or message.
  std::size_t buffered() const { return partial_.size() + message_.size(); }

private:
  // Parses one frame at the start of `in`: its length, 0 when incomplete, npos when refused.
  std::size_t frame(std::string_view in, std::vector<message>& out);
  // Records the failure; returns frame()'s "refused".
  std::size_t fail(std::uint16_t code, std::string reason);

  std::size_t max_;
  std::string partial_;  // an incomplete frame's bytes
  std::string message_;  // the fragments of a data message so far
  ws_opcode message_type_ = ws_opcode::continuation;  // continuation: none in progress
  failure error_;
};

}  // namespace actorcable::net
