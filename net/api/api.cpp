#include "net/api/api.hpp"

#include "actors/protocol.hpp"
#include "common/log.hpp"
#include "model/obfuscated_id.hpp"
#include "model/utf8.hpp"
#include "net/auth/auth.hpp"
#include "net/http/query_string.hpp"
#include "net/api/resource_json.hpp"
#include "persistence/browser_sessions_repository.hpp"
#include "persistence/chats_repository.hpp"
#include "persistence/messages_repository.hpp"
#include "persistence/users_repository.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <vector>

namespace actorcable::net {
namespace json = boost::json;
using model::model_kind;

http_reply json_error(unsigned status, std::string_view reason) {
  json::object o;
  o["error"] = reason;
  return {status, json::serialize(o), ""};
}

namespace {

http_reply json_reply(unsigned status, const json::value& v) {
  return {status, json::serialize(v), ""};
}

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start < path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos)
      end = path.size();
    if (end > start)
      out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// The request body as a JSON object; an empty body counts as {}.
std::optional<json::object> body_object(const std::string& body) {
  if (body.empty())
    return json::object{};
  json::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object())
    return std::nullopt;
  return v.as_object();
}

http_reply not_found() {
  return json_error(404, "not found");
}

http_reply method_not_allowed(std::string allow) {
  auto r = json_error(405, "method not allowed");
  r.allow = std::move(allow);
  return r;
}

}  // namespace

api::api(persistence::pg_pool& pool, actors::directory_actor directory, api_settings settings)
  : pool_(pool), directory_(std::move(directory)), settings_(std::move(settings)) {}

http_reply api::limited(const persistence::limit_refusal& refusal, std::int64_t user_id) const {
  using kind = persistence::limit_refusal::kind;
  bool concurrent = refusal.what == kind::concurrent;
  const char* limit = concurrent ? "answers_concurrent" : "answers_per_minute";
  if (settings_.metrics)
    (concurrent ? settings_.metrics->limited_answers_concurrent
                : settings_.metrics->limited_answers_per_minute)
      .fetch_add(1, std::memory_order_relaxed);
  if (auto n = limited_log_.admit(std::string(limit) + ":" + std::to_string(user_id)))
    log::warn("api", "limited", {{"limit", limit}, {"user_id", user_id}, {"refused", n}});
  auto r = json_error(429, concurrent ? "too many answers streaming" : "too many answers per minute");
  r.retry_after_s = concurrent ? 0 : refusal.retry_after_s;
  return r;
}

namespace {

// The page size a request's `limit` asks for (`fallback` without one); none when it is not a
// number from 1 to `max`.
std::optional<int> page_limit(const std::string& target, int fallback, int max) {
  auto text = query_param(target, "limit");
  if (text.empty())
    return fallback;
  int n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || n < 1 || n > max)
    return std::nullopt;
  return n;
}

// GET /api/chats[?before=<chat oid>&limit=N]: the user's chats, most recently active first, a
// page at a time with a Link to the next (SPEC §17: a user's chats are never read or sent whole).
http_reply chats_page(persistence::pg_connection& conn, std::int64_t user_id, const std::string& target) {
  constexpr int default_limit = 100, max_limit = 200;
  std::optional<std::int64_t> before;
  auto before_text = query_param(target, "before");
  if (!before_text.empty() && !(before = model::decode_id(model_kind::chat, before_text)))
    return json_error(400, "before must be a chat id");
  auto limit = page_limit(target, default_limit, max_limit);
  if (!limit)
    return json_error(400, "limit must be a number from 1 to " + std::to_string(max_limit));
  auto page = persistence::page_of_chats(conn, user_id, before, *limit);
  json::array out;
  for (auto& c : page.chats)
    out.push_back(chat_json(c));
  auto reply = json_reply(200, out);
  if (page.more)
    reply.link = "</api/chats?before=" + model::encode_id(model_kind::chat, page.chats.back().id)
                 + "&limit=" + std::to_string(*limit) + ">; rel=\"next\"";
  return reply;
}

}  // namespace

// GET /api/chats/:id/messages[?before=<message oid>&limit=N]: a page, oldest first, with a Link
// to the older messages when there are more (a long chat is never read or sent whole).
http_reply api::message_page(persistence::pg_connection& conn, const model::chat& chat,
                             const std::string& target) const {
  constexpr int default_limit = 100, max_limit = 200;
  constexpr std::int64_t max_page_bytes = 4 * 1024 * 1024;
  std::optional<std::int64_t> before;
  auto before_text = query_param(target, "before");
  if (!before_text.empty() && !(before = model::decode_id(model_kind::message, before_text)))
    return json_error(400, "before must be a message id");
  auto limit = page_limit(target, default_limit, max_limit);
  if (!limit)
    return json_error(400, "limit must be a number from 1 to " + std::to_string(max_limit));
  auto page = persistence::page_of_chat(conn, chat.id, before, *limit, max_page_bytes);
  json::array out;
  for (auto& m : page.messages)
    out.push_back(message_json(m));
  auto reply = json_reply(200, out);
  if (page.older) {
    auto chat_oid = model::encode_id(model_kind::chat, chat.id);
    reply.link = "</api/chats/" + chat_oid + "/messages?before="
                 + model::encode_id(model_kind::message, *page.older) + "&limit="
                 + std::to_string(*limit) + ">; rel=\"next\"";
  }
  return reply;
}

std::optional<std::int64_t> api::cookie_user(std::string_view session_id) const {
  auto digest = session_digest(session_id);
  if (digest.empty())
    return std::nullopt;
  auto conn = pool_.acquire();
  return persistence::browser_session_user(*conn, digest);
}

http_reply api::handle(const http_call& call) const {
  auto parts = segments(call.path);
  if (parts.empty() || parts[0] != "api")
    return not_found();
  // A JWT in the Authorization header, else the browser's session cookie (SPEC §13).
  auto token = bearer_token(call.authorization);
  bool by_cookie = token.empty() && !call.cookie_token.empty();
  // Route shape first, so that unknown routes are 404 and known ones with a wrong method 405.
  enum class route { chats, chat, chat_messages, message, message_stop, models, none } r = route::none;
  std::optional<std::int64_t> id;
  if (parts.size() == 2 && parts[1] == "chats") {
    r = route::chats;
  } else if (parts.size() == 2 && parts[1] == "models") {
    r = route::models;
  } else if (parts.size() == 3 && parts[1] == "chats") {
    r = route::chat;
    id = model::decode_id(model_kind::chat, parts[2]);
  } else if (parts.size() == 4 && parts[1] == "chats" && parts[3] == "messages") {
    r = route::chat_messages;
    id = model::decode_id(model_kind::chat, parts[2]);
  } else if (parts.size() == 3 && parts[1] == "messages") {
    r = route::message;
    id = model::decode_id(model_kind::message, parts[2]);
  } else if (parts.size() == 4 && parts[1] == "messages" && parts[3] == "stop") {
    r = route::message_stop;
    id = model::decode_id(model_kind::message, parts[2]);
  }
  if (r == route::none)
    return not_found();
  const bool get = call.method == "GET", post = call.method == "POST",
             patch = call.method == "PATCH";
  switch (r) {
    case route::models:
      if (!get)
        return method_not_allowed("GET");
      break;
    case route::chat:
      if (!get && !patch)
        return method_not_allowed("GET, PATCH");
      break;
    case route::chats:
    case route::chat_messages:
      if (!get && !post)
        return method_not_allowed("GET, POST");
      break;
    case route::message:
      if (!get)
        return method_not_allowed("GET");
      break;
    case route::message_stop:
      if (!post)
        return method_not_allowed("POST");
      break;
    case route::none:
      break;
  }
  auto user_id = by_cookie ? cookie_user(call.cookie_token) : authenticate(settings_.secret, token);
  if (!user_id)
    return json_error(401, "unauthorized");
  // A cookie goes with every request to this site, a cross-site form's too: changes need the
  // page's own Origin.
  if (by_cookie && !get && !call.origin_ok)
    return json_error(403, "origin not allowed");
  std::optional<json::object> body;
  if (post || patch) {
    body = body_object(call.body);
    if (!body)
      return json_error(400, "body is not a JSON object");
  }
  // A chat's model: a string the server serves (SPEC §10).
  auto model_of = [&](std::optional<std::string>& out) -> std::optional<http_reply> {
    auto m = body->find("model_id");
    if (m == body->end())
      return std::nullopt;
    auto* s = m->value().if_string();
    if (!s || std::none_of(settings_.models.begin(), settings_.models.end(),
                           [&](const model_entry& e) { return e.id == *s; }))
      return json_error(422, "model_id must be one of GET /api/models");
    out = std::string(*s);
    return std::nullopt;
  };
  auto title_of = [&](std::optional<std::string>& out) -> std::optional<http_reply> {
    auto t = body->find("title");
    if (t == body->end())
      return std::nullopt;
    if (!t->value().is_string() || model::utf8_length(t->value().as_string()) > 500)
      return json_error(422, "title must be a string of at most 500 characters");
    if (t->value().as_string().find('\0') != json::string::npos)
      return json_error(422, "title must not contain NUL characters");
    out = std::string(t->value().as_string());
    return std::nullopt;
  };
  if (r == route::models) {
    json::array out;
    for (auto& m : settings_.models)
      out.push_back(json::object{{"id", m.id}, {"provider", m.provider}, {"default", m.is_default}});
    return json_reply(200, out);
  }
  auto conn = pool_.acquire();
  switch (r) {
    case route::chat: {
      if (get) {
        auto chat = id ? persistence::find_chat_for_user(*conn, *user_id, *id) : std::nullopt;
        return chat ? json_reply(200, chat_json(*chat)) : not_found();
      }
      std::optional<std::string> title, model_id;
      if (auto bad = title_of(title))
        return *bad;
      if (auto bad = model_of(model_id))
        return *bad;
      auto chat = id ? persistence::update_chat_for_user(*conn, *user_id, *id, title, model_id)
                     : std::nullopt;
      return chat ? json_reply(200, chat_json(*chat)) : not_found();
    }
    case route::chats: {
      if (get)
        return chats_page(*conn, *user_id, call.target);
      std::optional<std::string> given_title, model_id;
      if (auto bad = title_of(given_title))
        return *bad;
      if (auto bad = model_of(model_id))
        return *bad;
      auto title = given_title && !given_title->empty() ? *given_title : std::string("New chat");
      auto account = persistence::default_account_id(*conn, *user_id);
      if (!account)
        return json_error(422, "user has no account");
      auto chat = persistence::create_chat_within(*conn, *account, title, model_id.value_or(""),
                                                  settings_.chats_per_user);
      if (!chat) {
        if (settings_.metrics)
          settings_.metrics->limited_chats.fetch_add(1, std::memory_order_relaxed);
        if (auto n = limited_log_.admit("chats:" + std::to_string(*user_id)))
          log::warn("api", "limited", {{"limit", "chats"}, {"user_id", *user_id}, {"refused", n}});
        return json_error(429, "too many chats");
      }
      return json_reply(201, chat_json(*chat));
    }
    case route::chat_messages: {
      auto chat = id ? persistence::find_chat_for_user(*conn, *user_id, *id) : std::nullopt;
      if (!chat)
        return not_found();
      if (get)
        return message_page(*conn, *chat, call.target);
      auto content = body->find("content");
      if (content == body->end() || !content->value().is_string()
          || content->value().as_string().empty())
        return json_error(422, "content must be a non-empty string");
      if (content->value().as_string().find('\0') != json::string::npos)
        return json_error(422, "content must not contain NUL characters");
      std::string text(content->value().as_string());
      auto busy = persistence::on_busy::cancel;
      if (auto b = body->find("on_busy"); b != body->end()) {
        auto* s = b->value().if_string();
        if (s && *s == "queue")
          busy = persistence::on_busy::queue;
        else if (s && *s == "reject")
          busy = persistence::on_busy::reject;
        else if (!s || *s != "cancel")
          return json_error(422, "on_busy must be \"cancel\", \"queue\" or \"reject\"");
      }
      auto created = persistence::try_create_exchange(*conn, chat->id, *user_id, text,
                                                      settings_.node, settings_.lease_seconds,
                                                      settings_.limits, busy);
      if (auto* refused = std::get_if<persistence::limit_refusal>(&created)) {
        if (refused->what == persistence::limit_refusal::kind::busy)
          return json_error(409, "an answer of this chat is still streaming");
        return limited(*refused, *user_id);
      }
      auto& ex = std::get<persistence::exchange>(created);
      actors::job_spec spec{ex.answer.id, chat->id, text,
                            persistence::chat_history(*conn, chat->id, ex.answer.id,
                                                      settings_.history_budget_chars),
                            ex.busy, busy == persistence::on_busy::cancel, chat->model_id};
      caf::anon_send(directory_, actors::start_atom::value, std::move(spec));
      log::info("api", "answer_started",
                {{"message_id", ex.answer.id}, {"chat_id", chat->id}, {"user_id", *user_id}});
      json::object out;
      out["message"] = message_json(ex.question);
      out["response"] = message_json(ex.answer);
      return json_reply(201, out);
    }
    case route::message: {
      auto m = id ? persistence::find_message_for_user(*conn, *user_id, *id) : std::nullopt;
      if (!m)
        return not_found();
      return json_reply(200, message_json(*m));
    }
    case route::message_stop: {
      auto m = id ? persistence::find_message_for_user(*conn, *user_id, *id) : std::nullopt;
      if (!m)
        return not_found();
      caf::anon_send(directory_, actors::cancel_atom::value, m->id);
      json::object out;
      out["id"] = model::encode_id(model_kind::message, m->id);
      out["stopping"] = m->streaming;
      return json_reply(202, out);
    }
    case route::models:  // answered above, without a connection
    case route::none:
      break;
  }
  return not_found();
}

}  // namespace actorcable::net
