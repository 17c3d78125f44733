#include "net/api/resource_json.hpp"

#include "model/obfuscated_id.hpp"

#include <boost/json/parse.hpp>

namespace actorcable::net {

using model::encode_id;
using model::model_kind;

boost::json::object chat_json(const model::chat& c) {
  boost::json::object o;
  o["id"] = encode_id(model_kind::chat, c.id);
  o["account_id"] = encode_id(model_kind::account, c.account_id);
  o["title"] = c.title;
  o["model_id"] = c.model_id.empty() ? boost::json::value(nullptr) : boost::json::value(c.model_id);
  o["created_at"] = c.created_at;
  o["updated_at"] = c.updated_at;
  return o;
}

boost::json::object message_json(const model::message& m) {
  auto opt = [](const std::optional<std::int64_t>& v) {
    return v ? boost::json::value(*v) : boost::json::value(nullptr);
  };
  boost::json::object o;
  o["id"] = encode_id(model_kind::message, m.id);
  o["chat_id"] = encode_id(model_kind::chat, m.chat_id);
  o["user_id"] = m.user_id ? boost::json::value(encode_id(model_kind::user, *m.user_id))
                           : boost::json::value(nullptr);
  o["role"] = m.role;
  o["content"] = m.content;
  o["thinking"] = m.thinking_text;
  o["tool_status"] = m.tool_status.empty() ? boost::json::value(nullptr)
                                           : boost::json::value(m.tool_status);
  boost::system::error_code ec;
  auto calls = boost::json::parse(m.tool_calls.empty() ? "[]" : m.tool_calls, ec);
  o["tool_calls"] = ec || !calls.is_array() ? boost::json::value(boost::json::array())
                                            : std::move(calls);
  o["model_id"] = m.model_id.empty() ? boost::json::value(nullptr) : boost::json::value(m.model_id);
  o["input_tokens"] = opt(m.input_tokens);
  o["output_tokens"] = opt(m.output_tokens);
  o["streaming"] = m.streaming;
  o["status"] = m.stream_status.empty() ? boost::json::value(nullptr)
                                        : boost::json::value(m.stream_status);
  o["error"] = m.stream_error.empty() ? boost::json::value(nullptr)
                                      : boost::json::value(m.stream_error);
  o["created_at"] = m.created_at;
  o["updated_at"] = m.updated_at;
  return o;
}

}  // namespace actorcable::net
