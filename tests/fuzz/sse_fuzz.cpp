// The SSE parser and the OpenAI and Anthropic event decoders on arbitrary provider bytes, split arbitrarily.
#include "actors/provider/anthropic_events.hpp"
#include "actors/provider/openai_events.hpp"
#include "actors/provider/sse_parser.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  std::size_t cut = size > 1 ? data[0] % size : 0;
  actorcable::actors::sse_parser whole, split;
  auto a = whole.feed(bytes);
  auto b = split.feed(bytes.substr(0, std::min(cut, bytes.size())));
  for (auto& e : split.feed(bytes.substr(std::min(cut, bytes.size()))))
    b.push_back(e);
  if (a != b)
    std::abort();  // where the bytes were split must not matter
  for (auto& event : a) {
    (void)actorcable::actors::parse_openai_event(event);
    (void)actorcable::actors::parse_anthropic_event(event);
  }
  return 0;
}
