// The HTTP API (SPEC §4) as a plain function of a request: no sockets here. Calls block on
// PostgreSQL, so the server runs them on its database worker threads.
#pragma once
#include "actors/stream/directory_actor.hpp"
#include "common/log_throttle.hpp"
#include "common/metrics.hpp"
#include "persistence/messages_repository.hpp"
#include "persistence/pg/pg_pool.hpp"

#include <caf/actor.hpp>

#include <string>

namespace actorcable::net {

struct http_call {
  std::string method;
  std::string path;    // without the query string
  std::string target;  // as requested, query string included
  std::string authorization;
  std::string body;
  std::string cookie_token;  // the session cookie's id, if the request carried one
  bool origin_ok = false;    // its Origin is one of server.allowed_origins
};

struct http_reply {
  http_reply() = default;
  http_reply(unsigned code, std::string text, std::string allowed = {})
    : status{code}, body{std::move(text)}, allow{std::move(allowed)} {}
  unsigned status = 200;
  std::string body;
  std::string allow;  // for 405
  int retry_after_s = 0;  // for 429
  std::string link;       // RFC 8288 Link header (paging)
  std::string location;   // for redirects
  std::string set_cookie;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // any others
};

// A model the server can answer with (SPEC §10 GET /api/models).
struct model_entry {
  std::string id;
  std::string provider;
  bool is_default = false;
};

struct api_settings {
  std::vector<model_entry> models;
  std::string secret;
  std::string node;
  int lease_seconds = 6;
  std::size_t history_budget_chars = 24000;
  persistence::answer_limits limits{4, 20};
  int chats_per_user = 1000;  // limits.chats: POST /api/chats past it is 429 (0: none)
  actorcable::metrics* metrics = nullptr;
};

class api {
public:
  api(persistence::pg_pool& pool, actors::directory_actor directory, api_settings settings);

  http_reply handle(const http_call& call) const;
  // The user of a browser session id (the page's cookie); blocks on PostgreSQL.
  std::optional<std::int64_t> cookie_user(std::string_view session_id) const;

private:
  http_reply limited(const persistence::limit_refusal& refusal, std::int64_t user_id) const;
  http_reply message_page(persistence::pg_connection& conn, const model::chat& chat,
                          const std::string& target) const;

  persistence::pg_pool& pool_;
  actors::directory_actor directory_;
  api_settings settings_;
  mutable log_throttle limited_log_;
};

http_reply json_error(unsigned status, std::string_view reason);

}  // namespace actorcable::net
