#include "actors/broadcast/sync_notice.hpp"

#include "model/obfuscated_id.hpp"

#include <boost/json.hpp>

namespace actorcable::actors {
namespace {

namespace json = boost::json;
using model::model_kind;

std::string refresh(std::string_view prop, model_kind kind, std::int64_t id) {
  return json::serialize(json::object{
    {"action", "refresh"}, {"prop", prop}, {"id", model::encode_id(kind, id)}});
}

}  // namespace

std::int64_t id_field(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_int64() ? it->value().as_int64() : 0;
}

std::optional<broadcast_batch> sync_broadcasts(std::string_view payload) {
  json::error_code ec;
  auto v = json::parse(payload, ec);
  if (ec || !v.is_object())
    return std::nullopt;
  auto& o = v.as_object();
  auto kind_it = o.find("kind");
  if (kind_it == o.end() || !kind_it->value().is_string())
    return std::nullopt;
  std::string_view kind = kind_it->value().as_string();
  broadcast_batch out;
  auto add = [&](std::string stream, std::string message) {
    out.streams.push_back(std::move(stream));
    out.messages.push_back(std::move(message));
  };
  auto account = id_field(o, "account_id");
  auto chat = id_field(o, "chat_id");
  auto message = id_field(o, "message_id");
  if (kind == "chats" && account > 0) {
    add(model::stream_name(model_kind::account, account, ":chats"),
        refresh("chats", model_kind::account, account));
  } else if (kind == "chat" && chat > 0 && account > 0) {
    add(model::stream_name(model_kind::chat, chat), refresh("chat", model_kind::chat, chat));
    add(model::stream_name(model_kind::account, account, ":chats"),
        refresh("chats", model_kind::account, account));
  } else if (kind == "ended" && chat > 0 && message > 0) {
    auto status = o.find("status");
    if (status == o.end() || !status->value().is_string())
      return std::nullopt;
    add(model::stream_name(model_kind::chat, chat),
        json::serialize(json::object{{"action", "streaming_end"},
                                     {"chunk", nullptr},
                                     {"id", model::encode_id(model_kind::message, message)},
                                     {"status", status->value()}}));
  } else if (kind == "message" && message > 0) {
    add(model::stream_name(model_kind::message, message),
        refresh("message", model_kind::message, message));
  } else {
    return std::nullopt;
  }
  return out;
}

}  // namespace actorcable::actors
