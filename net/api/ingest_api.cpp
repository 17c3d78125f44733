#include "net/api/ingest_api.hpp"

#include "common/log.hpp"
#include "model/obfuscated_id.hpp"
#include "net/auth/auth.hpp"
#include "persistence/messages_repository.hpp"

#include <boost/json.hpp>
#include <openssl/crypto.h>

namespace actorcable::net {
namespace json = boost::json;

ingest_target ingest_route_of(std::string_view path) {
  auto id_between = [&](std::string_view prefix, std::string_view suffix, model::model_kind kind)
    -> std::optional<std::optional<std::int64_t>> {
    if (path.size() <= prefix.size() + suffix.size() || path.substr(0, prefix.size()) != prefix
        || path.substr(path.size() - suffix.size()) != suffix)
      return std::nullopt;
    auto oid = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
    if (oid.find('/') != std::string_view::npos)
      return std::nullopt;
    return model::decode_id(kind, oid);
  };
  if (auto id = id_between("/ingest/chats/", "/answers", model::model_kind::chat))
    return {ingest_route::answers, *id};
  if (auto id = id_between("/ingest/messages/", "/stream", model::model_kind::message))
    return {ingest_route::stream, *id};
  return {};
}

std::optional<http_reply> ingest_refusal(const std::string& key, std::string_view authorization) {
  if (key.empty())
    return json_error(404, "not found");
  auto given = bearer_token(authorization);
  if (given.size() != key.size() || CRYPTO_memcmp(given.data(), key.data(), key.size()) != 0)
    return json_error(401, "unauthorized");
  return std::nullopt;
}

http_reply create_ingest_answer(persistence::pg_pool& pool, std::optional<std::int64_t> chat_id,
                                const std::string& body) {
  std::string model_id;
  if (!body.empty()) {
    boost::system::error_code ec;
    auto value = json::parse(body, ec);
    if (ec || !value.is_object())
      return json_error(400, "the body must be a JSON object");
    if (auto* m = value.as_object().if_contains("model_id"); m && !m->is_null()) {
      if (!m->is_string() || m->as_string().size() > 200)
        return json_error(422, "model_id must be a string of at most 200 characters");
      if (m->as_string().find('\0') != json::string::npos)
        return json_error(422, "model_id must not contain NUL characters");
      model_id = std::string(m->as_string());
    }
  }
  if (!chat_id)
    return json_error(404, "not found");
  auto conn = pool.acquire();
  auto answer = persistence::create_ingest_answer(*conn, *chat_id, model_id);
  if (!answer)
    return json_error(404, "not found");
  log::info("ingest", "answer_created", {{"message_id", answer->id}, {"chat_id", *chat_id}});
  json::object out;
  out["id"] = model::encode_id(model::model_kind::message, answer->id);
  out["chat_id"] = model::encode_id(model::model_kind::chat, *chat_id);
  return http_reply{201, json::serialize(out)};
}

}  // namespace actorcable::net
