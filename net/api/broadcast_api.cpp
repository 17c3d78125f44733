#include "net/api/broadcast_api.hpp"

#include <boost/json.hpp>

namespace actorcable::net {
namespace json = boost::json;

namespace {

constexpr std::size_t max_stream_name = 256;

std::optional<std::string> add(broadcasts& out, const json::value& item, std::size_t index) {
  auto where = "broadcast " + std::to_string(index) + ": ";
  if (!item.is_object())
    return where + "must be an object with stream and data";
  auto& o = item.as_object();
  auto* stream = o.if_contains("stream");
  if (!stream || !stream->is_string() || stream->as_string().empty()
      || stream->as_string().size() > max_stream_name)
    return where + "stream must be a string of 1 to " + std::to_string(max_stream_name) + " bytes";
  auto* data = o.if_contains("data");
  if (!data || !data->is_string())
    return where + "data must be a string holding JSON";
  json::error_code ec;
  auto message = json::parse(data->as_string(), ec);
  if (ec)
    return where + "data is not JSON";
  out.streams.emplace_back(stream->as_string());
  out.messages.push_back(json::serialize(message));
  return std::nullopt;
}

}  // namespace

std::variant<broadcasts, http_reply> parse_broadcasts(std::string_view body) {
  json::error_code ec;
  auto value = json::parse(body, ec);
  if (ec)
    return json_error(400, "the body must be JSON");
  broadcasts out;
  std::optional<std::string> error;
  if (value.is_array()) {
    auto& items = value.as_array();
    for (std::size_t i = 0; i < items.size() && !error; ++i)
      error = add(out, items[i], i);
  } else {
    error = add(out, value, 0);
  }
  if (error)
    return json_error(422, *error);
  return out;
}

}  // namespace actorcable::net
