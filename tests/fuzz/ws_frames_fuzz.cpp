// The WebSocket frame reader on arbitrary client bytes, split arbitrarily: no crash, bounded
// buffering, and the split does not change the outcome.
#include "net/ws/ws_frames.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  std::size_t cut = std::min<std::size_t>(data[0] % size, bytes.size());
  constexpr std::size_t limit = 4096;
  actorcable::net::ws_reader whole(limit), split(limit);
  std::vector<actorcable::net::ws_reader::message> a, b;
  bool ok_a = whole.feed(bytes, a);
  bool ok_b = split.feed(bytes.substr(0, cut), b) && split.feed(bytes.substr(cut), b);
  if (ok_a != ok_b || a.size() != b.size() || whole.error().code != split.error().code)
    std::abort();
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].type != b[i].type || a[i].payload != b[i].payload || a[i].payload.size() > limit)
      std::abort();
  if (whole.buffered() > 2 * limit + 14)
    std::abort();
  return 0;
}
