#include "model/utf8.hpp"

namespace actorcable::model {
namespace {

// The sequence at in[i] (not ASCII): its length when valid, else 0 with `prefix` set to how
// many of its bytes were acceptable (rejects overlongs and surrogates).
std::size_t sequence_at(std::string_view in, std::size_t i, std::size_t& prefix) {
  auto c = static_cast<unsigned char>(in[i]);
  std::size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
  if (c >= 0xC2 && c <= 0xDF) len = 2;
  else if (c == 0xE0) { len = 3; lo = 0xA0; }
  else if (c >= 0xE1 && c <= 0xEC) len = 3;
  else if (c == 0xED) { len = 3; hi = 0x9F; }
  else if (c >= 0xEE && c <= 0xEF) len = 3;
  else if (c == 0xF0) { len = 4; lo = 0x90; }
  else if (c >= 0xF1 && c <= 0xF3) len = 4;
  else if (c == 0xF4) { len = 4; hi = 0x8F; }
  prefix = 0;
  if (len == 0)
    return 0;
  prefix = 1;
  for (; prefix < len && i + prefix < in.size(); ++prefix) {
    auto b = static_cast<unsigned char>(in[i + prefix]);
    auto min = prefix == 1 ? lo : 0x80, max = prefix == 1 ? hi : 0xBF;
    if (b < min || b > max)
      break;
  }
  return prefix == len ? len : 0;
}

}  // namespace

std::string sanitize_utf8(std::string_view in) {
  static constexpr std::string_view replacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(in.size());
  std::size_t i = 0;
  while (i < in.size()) {
    auto c = static_cast<unsigned char>(in[i]);
    if (c == 0) {
      ++i;
      continue;
    }
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    std::size_t prefix = 0;
    if (auto len = sequence_at(in, i, prefix)) {
      out.append(in.substr(i, len));
      i += len;
    } else {
      out.append(replacement);
      i += prefix > 0 ? prefix : 1;
    }
  }
  return out;
}

bool valid_utf8(std::string_view in) {
  std::size_t i = 0;
  while (i < in.size()) {
    if (static_cast<unsigned char>(in[i]) < 0x80) {
      ++i;
      continue;
    }
    std::size_t prefix = 0;
    auto len = sequence_at(in, i, prefix);
    if (len == 0)
      return false;
    i += len;
  }
  return true;
}

std::size_t utf8_length(std::string_view in) {
  std::size_t n = 0;
  for (unsigned char c : in)
    n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace actorcable::model
