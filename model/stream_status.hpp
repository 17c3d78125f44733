// How a stream ended (SPEC §5 streaming_end, §6): one value in the actors, its name on the wire
// and in `messages.stream_status`.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace actorcable::model {

enum class stream_status : std::uint8_t { complete, error, cancelled, interrupted };

constexpr std::string_view to_string(stream_status s) {
  switch (s) {
    case stream_status::complete: return "complete";
    case stream_status::error: return "error";
    case stream_status::cancelled: return "cancelled";
    case stream_status::interrupted: return "interrupted";
  }
  return "error";
}

constexpr std::optional<stream_status> parse_stream_status(std::string_view s) {
  for (auto v : {stream_status::complete, stream_status::error, stream_status::cancelled,
                 stream_status::interrupted})
    if (to_string(v) == s)
      return v;
  return std::nullopt;
}

}  // namespace actorcable::model
