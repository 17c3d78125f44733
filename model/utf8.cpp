#include "model/utf8.hpp"

namespace actorcable::model {

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
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte (rejects overlongs/surrogates)
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) { len = 3; lo = 0xA0; }
    else if (c >= 0xE1 && c <= 0xEC) len = 3;
    else if (c == 0xED) { len = 3; hi = 0x9F; }
    else if (c >= 0xEE && c <= 0xEF) len = 3;
    else if (c == 0xF0) { len = 4; lo = 0x90; }
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    else if (c == 0xF4) { len = 4; hi = 0x8F; }
    std::size_t ok = 0;
    if (len > 0) {
      ok = 1;
      for (; ok < len && i + ok < in.size(); ++ok) {
        auto b = static_cast<unsigned char>(in[i + ok]);
        auto min = ok == 1 ? lo : 0x80, max = ok == 1 ? hi : 0xBF;
        if (b < min || b > max)
          break;
      }
    }
    if (len > 0 && ok == len) {
      out.append(in.substr(i, len));
      i += len;
    } else {
      out.append(replacement);
      i += ok > 0 ? ok : 1;
    }
  }
  return out;
}

}  // namespace actorcable::model
