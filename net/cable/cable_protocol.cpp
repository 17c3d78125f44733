#include "net/cable/cable_protocol.hpp"

#include "common/json_number.hpp"
#include "common/log.hpp"

#include <boost/json.hpp>

namespace actorcable::net {
namespace json = boost::json;
using log::append_json_string;

namespace {

command_type type_of(std::string_view name) {
  if (name == "subscribe") return command_type::subscribe;
  if (name == "unsubscribe") return command_type::unsubscribe;
  if (name == "message") return command_type::message;
  if (name == "history") return command_type::history;
  if (name == "pong") return command_type::pong;
  return command_type::unknown;
}

std::optional<history_request> parse_history(const json::value& v) {
  if (!v.is_object())
    return std::nullopt;
  history_request out;
  auto& o = v.as_object();
  if (auto it = o.find("since"); it != o.end())
    out.since = json_int64(it->value());
  if (auto it = o.find("streams"); it != o.end() && it->value().is_object()) {
    for (auto& [stream, pos] : it->value().as_object()) {
      if (!pos.is_object())
        continue;
      auto& p = pos.as_object();
      auto off = p.find("offset");
      auto ep = p.find("epoch");
      if (off == p.end() || ep == p.end() || !ep->value().is_string())
        continue;
      if (auto n = json_int64(off->value()))
        out.streams[std::string(stream)] = {*n, std::string(ep->value().as_string())};
    }
  }
  return out;
}

}  // namespace

parse_result parse_command(std::string_view frame) {
  json::error_code ec;
  json::value v = json::parse(frame, ec);
  if (ec)
    return {std::nullopt, "frame is not JSON"};
  if (!v.is_object())
    return {std::nullopt, "frame is not a JSON object"};
  auto& o = v.as_object();
  auto cmd = o.find("command");
  if (cmd == o.end() || !cmd->value().is_string())
    return {std::nullopt, "frame has no command"};
  cable_command out;
  out.name = std::string(cmd->value().as_string());
  out.type = type_of(out.name);
  if (auto id = o.find("identifier"); id != o.end()) {
    if (!id->value().is_string())
      return {std::nullopt, "identifier is not a JSON string"};
    out.identifier = std::string(id->value().as_string());
  } else if (out.type == command_type::subscribe || out.type == command_type::unsubscribe
             || out.type == command_type::message || out.type == command_type::history) {
    return {std::nullopt, "command " + out.name + " needs an identifier"};
  }
  if (auto d = o.find("data"); d != o.end()) {
    if (d->value().is_string())
      out.data = std::string(d->value().as_string());
    else
      out.data = json::serialize(d->value());
  }
  if (auto h = o.find("history"); h != o.end())
    out.history = parse_history(h->value());
  if (out.type == command_type::history && !out.history)
    return {std::nullopt, "history command without a history object"};
  return {std::move(out), ""};
}

std::string perform_action(std::string_view data) {
  boost::system::error_code ec;
  auto v = json::parse(data, ec);
  if (ec || !v.is_object())
    return {};
  auto* action = v.as_object().if_contains("action");
  return action && action->is_string() ? std::string(action->as_string()) : std::string();
}

std::optional<channel_target> parse_identifier(std::string_view identifier) {
  json::error_code ec;
  json::value v = json::parse(identifier, ec);
  if (ec || !v.is_object())
    return std::nullopt;
  auto& o = v.as_object();
  auto channel = o.find("channel");
  auto model_name = o.find("model");
  auto id = o.find("id");
  if (channel == o.end() || model_name == o.end() || id == o.end()
      || !channel->value().is_string() || !model_name->value().is_string()
      || !id->value().is_string() || channel->value().as_string() != "SyncChannel")
    return std::nullopt;
  std::string_view model_str = model_name->value().as_string();
  std::string_view id_str = id->value().as_string();
  auto take_suffix = [&](std::string_view suffix) {
    if (id_str.size() <= suffix.size() || id_str.substr(id_str.size() - suffix.size()) != suffix)
      return false;
    id_str.remove_suffix(suffix.size());
    return true;
  };
  channel_target out;
  if (model_str == "Message") {
    out.kind = model::model_kind::message;
  } else if (model_str == "Chat") {
    out.kind = model::model_kind::chat;
    out.chat_messages = take_suffix(":messages");
  } else if (model_str == "Account" && take_suffix(":chats")) {
    out.kind = model::model_kind::account;
  } else {
    return std::nullopt;
  }
  auto decoded = model::decode_id(out.kind, id_str);
  if (!decoded)
    return std::nullopt;
  out.id = *decoded;
  return out;
}

std::string channel_target::stream_name() const {
  switch (kind) {
    case model::model_kind::chat:
      return model::stream_name(kind, id, chat_messages ? ":messages" : "");
    case model::model_kind::account:
      return model::stream_name(kind, id, ":chats");
    default:
      return model::stream_name(kind, id);
  }
}

std::string welcome_frame(std::string_view sid) {
  if (sid.empty())
    return R"({"type":"welcome"})";
  std::string out = R"({"type":"welcome","sid":)";
  append_json_string(out, sid);
  out += '}';
  return out;
}

std::string restored_welcome_frame(std::string_view sid, const std::vector<std::string>& ids) {
  std::string out = R"({"type":"welcome","sid":)";
  append_json_string(out, sid);
  out += R"(,"restored":true,"restored_ids":[)";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i > 0)
      out += ',';
    append_json_string(out, ids[i]);
  }
  out += "]}";
  return out;
}

std::string ping_frame(std::int64_t unix_seconds) {
  return R"({"type":"ping","message":)" + std::to_string(unix_seconds) + "}";
}

namespace {
std::string typed_frame(std::string_view type, std::string_view identifier) {
  std::string out = R"({"identifier":)";
  append_json_string(out, identifier);
  out += R"(,"type":")";
  out += type;
  out += "\"}";
  return out;
}
}  // namespace

std::string confirm_frame(std::string_view identifier) {
  return typed_frame("confirm_subscription", identifier);
}

std::string reject_frame(std::string_view identifier) {
  return typed_frame("reject_subscription", identifier);
}

std::string confirm_history_frame(std::string_view identifier) {
  return typed_frame("confirm_history", identifier);
}

std::string reject_history_frame(std::string_view identifier) {
  return typed_frame("reject_history", identifier);
}

std::string disconnect_frame(std::string_view reason, bool reconnect) {
  std::string out = R"({"type":"disconnect","reason":)";
  append_json_string(out, reason);
  out += reconnect ? R"(,"reconnect":true})" : R"(,"reconnect":false})";
  return out;
}

std::string broadcast_frame(std::string_view identifier, std::string_view message_json,
                            std::string_view ext_fields) {
  std::string out;
  out.reserve(identifier.size() + message_json.size() + ext_fields.size() + 48);
  out += R"({"identifier":)";
  append_json_string(out, identifier);
  out += R"(,"message":)";
  out += message_json;
  out += ext_fields;
  out += '}';
  return out;
}

}  // namespace actorcable::net
