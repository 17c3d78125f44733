#include "actors/provider/anthropic_events.hpp"

#include "common/json_number.hpp"

#include <boost/json.hpp>

namespace actorcable::actors {
namespace json = boost::json;

namespace {

std::string string_at(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}

const json::object* object_at(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_object() ? &it->value().as_object() : nullptr;
}

anthropic_event malformed(std::string why) {
  anthropic_event ev;
  ev.type = anthropic_event::kind::malformed;
  ev.error = std::move(why);
  return ev;
}

void read_usage(const json::object* usage, anthropic_event& ev) {
  if (!usage)
    return;
  ev.input_tokens = json_int64(*usage, "input_tokens");
  ev.output_tokens = json_int64(*usage, "output_tokens");
}

}  // namespace

anthropic_event parse_anthropic_event(std::string_view data) {
  json::error_code ec;
  // A provider's invalid UTF-8 is repaired by the message actor (U+FFFD), not a failed stream.
  json::parse_options lenient;
  lenient.allow_invalid_utf8 = true;
  auto v = json::parse(data, ec, {}, lenient);
  if (ec || !v.is_object())
    return malformed("provider sent an event that is not a JSON object");
  auto& o = v.as_object();
  auto type = string_at(o, "type");
  anthropic_event ev;
  if (type == "content_block_delta") {
    auto delta = object_at(o, "delta");
    if (!delta)
      return malformed("provider sent a content_block_delta without a delta");
    auto kind = string_at(*delta, "type");
    if (kind == "text_delta") {
      ev.type = anthropic_event::kind::text;
      ev.text = string_at(*delta, "text");
    } else if (kind == "thinking_delta") {
      ev.type = anthropic_event::kind::thinking;
      ev.text = string_at(*delta, "thinking");
    }
    return ev;
  }
  if (type == "message_start") {
    auto message = object_at(o, "message");
    if (!message)
      return malformed("provider sent a message_start without a message");
    ev.type = anthropic_event::kind::usage;
    ev.model = string_at(*message, "model");
    read_usage(object_at(*message, "usage"), ev);
    return ev;
  }
  if (type == "message_delta") {
    ev.type = anthropic_event::kind::usage;
    if (auto delta = object_at(o, "delta"))
      ev.stop_reason = string_at(*delta, "stop_reason");
    read_usage(object_at(o, "usage"), ev);
    return ev;
  }
  if (type == "message_stop") {
    ev.type = anthropic_event::kind::stop;
    return ev;
  }
  if (type == "error") {
    ev.type = anthropic_event::kind::error;
    if (auto err = object_at(o, "error")) {
      ev.error = string_at(*err, "message");
      if (auto kind = string_at(*err, "type"); !kind.empty())
        ev.error = ev.error.empty() ? kind : kind + ": " + ev.error;
    }
    if (ev.error.empty())
      ev.error = "provider reported an error";
    return ev;
  }
  if (type.empty())
    return malformed("provider sent an event without a type");
  return ev;  // ping, content_block_start/stop, and types added after this was written
}

std::string anthropic_request_body(std::string_view model, std::int64_t max_tokens,
                                   const std::vector<model::chat_turn>& turns) {
  json::object body;
  body["model"] = model;
  body["max_tokens"] = max_tokens;
  body["stream"] = true;
  std::string system;
  json::array messages;
  for (auto& t : turns) {
    if (t.role == "system") {
      system += system.empty() ? t.content : "\n\n" + t.content;
      continue;
    }
    bool assistant = t.role == "assistant";
    if (assistant && messages.empty())
      continue;
    messages.push_back(json::object{{"role", assistant ? "assistant" : "user"}, {"content", t.content}});
  }
  if (!system.empty())
    body["system"] = system;
  body["messages"] = std::move(messages);
  return json::serialize(body);
}

}  // namespace actorcable::actors
