#include "net/ws/handshake.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>

namespace actorcable::net {

std::string negotiate(std::string_view offered) {
  if (offered.empty())
    return "";
  bool plain = false, ext = false;
  std::size_t start = 0;
  while (start <= offered.size()) {
    auto end = offered.find(',', start);
    if (end == std::string_view::npos)
      end = offered.size();
    auto item = offered.substr(start, end - start);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    plain |= item == plain_protocol;
    ext |= item == ext_protocol;
    start = end + 1;
  }
  if (ext)
    return std::string(ext_protocol);
  if (plain)
    return std::string(plain_protocol);
  return std::string(unsupported_protocol);
}

std::string random_id() {
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  unsigned char bytes[24];
  if (RAND_bytes(bytes, sizeof bytes) != 1)
    throw std::runtime_error("RAND_bytes failed");
  std::string out;
  for (auto b : bytes)
    out += alphabet[b % 62];
  return out;
}

bool valid_websocket_key(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==")
    return false;
  auto b64 = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+'
           || c == '/';
  };
  return std::all_of(key.begin(), key.begin() + 22, b64);
}

}  // namespace actorcable::net
