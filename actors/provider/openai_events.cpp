#include "actors/provider/openai_events.hpp"

#include "common/json_number.hpp"

#include <boost/json.hpp>

namespace actorcable::actors {
namespace json = boost::json;

openai_event parse_openai_event(std::string_view data) {
  openai_event ev;
  if (data == "[DONE]") {
    ev.type = openai_event::kind::done;
    return ev;
  }
  json::error_code ec;
  // A provider's invalid UTF-8 is repaired by the message actor (U+FFFD), not a failed stream.
  json::parse_options lenient;
  lenient.allow_invalid_utf8 = true;
  auto v = json::parse(data, ec, {}, lenient);
  if (ec || !v.is_object()) {
    ev.type = openai_event::kind::malformed;
    ev.error = "provider sent an event that is not a JSON object";
    return ev;
  }
  auto& o = v.as_object();
  if (auto err = o.find("error"); err != o.end()) {
    ev.type = openai_event::kind::error;
    if (err->value().is_object()) {
      auto& eo = err->value().as_object();
      if (auto m = eo.find("message"); m != eo.end() && m->value().is_string())
        ev.error = std::string(m->value().as_string());
    }
    if (ev.error.empty())
      ev.error = "provider reported an error";
    return ev;
  }
  if (auto m = o.find("model"); m != o.end() && m->value().is_string())
    ev.model = std::string(m->value().as_string());
  if (auto u = o.find("usage"); u != o.end() && u->value().is_object()) {
    ev.prompt_tokens = json_int64(u->value().as_object(), "prompt_tokens");
    ev.completion_tokens = json_int64(u->value().as_object(), "completion_tokens");
  }
  auto choices = o.find("choices");
  if (choices != o.end() && choices->value().is_array() && !choices->value().as_array().empty()) {
    auto& first = choices->value().as_array().front();
    if (!first.is_object()) {
      ev.type = openai_event::kind::malformed;
      ev.error = "provider sent a choice that is not an object";
      return ev;
    }
    if (auto fr = first.as_object().find("finish_reason");
        fr != first.as_object().end() && fr->value().is_string())
      ev.finished = true;
    auto delta = first.as_object().find("delta");
    if (delta != first.as_object().end() && delta->value().is_object()) {
      auto& d = delta->value().as_object();
      auto text = [&](const char* key) {
        auto it = d.find(key);
        return it != d.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                        : std::string();
      };
      ev.content = text("content");
      ev.reasoning = text("reasoning_content");
      if (ev.reasoning.empty())
        ev.reasoning = text("reasoning");
    }
  } else if (choices != o.end() && !choices->value().is_array()) {
    ev.type = openai_event::kind::malformed;
    ev.error = "provider sent choices that are not an array";
  }
  return ev;
}

std::string openai_request_body(std::string_view model, std::string_view messages_json) {
  json::object body;
  body["model"] = model;
  body["messages"] = json::parse(messages_json);
  body["stream"] = true;
  json::object opts;
  opts["include_usage"] = true;
  body["stream_options"] = opts;
  return json::serialize(body);
}

}  // namespace actorcable::actors
