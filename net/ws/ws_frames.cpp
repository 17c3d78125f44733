#include "net/ws/ws_frames.hpp"

#include "model/utf8.hpp"

namespace actorcable::net {
namespace {

constexpr std::size_t incomplete = 0;
constexpr std::size_t refused = std::string_view::npos;

bool valid_close_code(std::uint16_t code) {
  if (code >= 3000 && code <= 4999)
    return true;
  return code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006;
}

}  // namespace

std::size_t ws_header(std::array<unsigned char, 10>& out, ws_opcode op, std::size_t n) {
  out[0] = static_cast<unsigned char>(0x80 | static_cast<unsigned>(op));
  if (n < 126) {
    out[1] = static_cast<unsigned char>(n);
    return 2;
  }
  if (n < 65536) {
    out[1] = 126;
    out[2] = static_cast<unsigned char>(n >> 8);
    out[3] = static_cast<unsigned char>(n);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i)
    out[2 + i] = static_cast<unsigned char>(static_cast<std::uint64_t>(n) >> (56 - 8 * i));
  return 10;
}

std::string ws_close_payload(std::uint16_t code, std::string_view reason) {
  reason = reason.substr(0, 123);
  std::string out;
  out += static_cast<char>(code >> 8);
  out += static_cast<char>(code & 0xFF);
  out += reason;
  return out;
}

std::size_t ws_reader::fail(std::uint16_t code, std::string reason) {
  error_ = {code, std::move(reason)};
  partial_.clear();
  message_.clear();
  return refused;
}

std::size_t ws_reader::frame(std::string_view in, std::vector<message>& out) {
  if (in.size() < 2)
    return incomplete;
  auto b0 = static_cast<unsigned char>(in[0]), b1 = static_cast<unsigned char>(in[1]);
  bool fin = b0 & 0x80;
  auto op = static_cast<ws_opcode>(b0 & 0x0F);
  bool control = (b0 & 0x08) != 0;
  if (b0 & 0x70)
    return fail(ws_close::protocol_error, "reserved bits set");
  if (!(b1 & 0x80))
    return fail(ws_close::protocol_error, "unmasked client frame");
  switch (op) {
    case ws_opcode::continuation: case ws_opcode::text: case ws_opcode::binary:
    case ws_opcode::close: case ws_opcode::ping: case ws_opcode::pong:
      break;
    default:
      return fail(ws_close::protocol_error, "unknown opcode");
  }
  std::size_t len = b1 & 0x7F, header = 2;
  if (len == 126) {
    if (in.size() < 4)
      return incomplete;
    len = (static_cast<std::size_t>(static_cast<unsigned char>(in[2])) << 8)
          | static_cast<unsigned char>(in[3]);
    header = 4;
  } else if (len == 127) {
    if (in.size() < 10)
      return incomplete;
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
      v = (v << 8) | static_cast<unsigned char>(in[2 + i]);
    if (v >> 63)
      return fail(ws_close::protocol_error, "invalid length");
    len = static_cast<std::size_t>(v);
    header = 10;
  }
  if (control && (!fin || len > 125))
    return fail(ws_close::protocol_error, "invalid control frame");
  if (!control && (len > max_ || message_.size() + len > max_))
    return fail(ws_close::too_big, "frame exceeds " + std::to_string(max_) + " bytes");
  header += 4;  // the mask
  if (in.size() < header || in.size() - header < len)
    return incomplete;
  const auto* mask = reinterpret_cast<const unsigned char*>(in.data() + header - 4);
  std::string payload(in.substr(header, len));
  for (std::size_t i = 0; i < len; ++i)
    payload[i] = static_cast<char>(static_cast<unsigned char>(payload[i]) ^ mask[i % 4]);

  if (op == ws_opcode::close) {
    message m{op, {}, 0};
    if (len == 1)
      return fail(ws_close::protocol_error, "invalid close frame");
    if (len >= 2) {
      m.close_code = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8)
                                                | static_cast<unsigned char>(payload[1]));
      m.payload = payload.substr(2);
      if (!valid_close_code(m.close_code) || !model::valid_utf8(m.payload))
        return fail(ws_close::protocol_error, "invalid close frame");
    }
    out.push_back(std::move(m));
  } else if (control) {
    out.push_back({op, std::move(payload), 0});
  } else {
    if (op == ws_opcode::continuation) {
      if (message_type_ == ws_opcode::continuation)
        return fail(ws_close::protocol_error, "continuation without a message");
      message_ += payload;
    } else {
      if (message_type_ != ws_opcode::continuation)
        return fail(ws_close::protocol_error, "new message inside a fragmented one");
      message_type_ = op;
      message_ = std::move(payload);
    }
    if (fin) {
      if (message_type_ == ws_opcode::text && !model::valid_utf8(message_))
        return fail(ws_close::invalid_payload, "text is not valid UTF-8");
      out.push_back({message_type_, std::move(message_), 0});
      message_.clear();
      message_type_ = ws_opcode::continuation;
    }
  }
  return header + len;
}

bool ws_reader::feed(std::string_view bytes, std::vector<message>& out) {
  if (failed())
    return false;
  bool buffered = !partial_.empty();
  if (buffered)
    partial_.append(bytes);
  std::string_view in = buffered ? std::string_view(partial_) : bytes;
  std::size_t pos = 0;
  while (pos < in.size()) {
    auto n = frame(in.substr(pos), out);
    if (n == refused)
      return false;
    if (n == incomplete)
      break;
    pos += n;
  }
  if (buffered)
    partial_.erase(0, pos);
  else
    partial_.assign(in.substr(pos));
  return true;
}

}  // namespace actorcable::net
