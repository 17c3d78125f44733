// An application's own backend as producer (SPEC §11), the parts that are plain requests: the
// ingest key, the routes, and creating an answer for a producer to stream. The stream itself
// (a request body read as it arrives) is net/api/ingest_stream.
#pragma once
#include "net/api/api.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace actorcable::net {

enum class ingest_route { none, answers, stream };

struct ingest_target {
  ingest_route route = ingest_route::none;
  std::optional<std::int64_t> id;  // the chat (answers) or message (stream); none: not an id
};

// What an /ingest/ path names: POST /ingest/chats/:chat_oid/answers or
// POST /ingest/messages/:oid/stream.
ingest_target ingest_route_of(std::string_view path);

// Why a request to an ingest endpoint is refused before anything else: 404 when no key is
// configured (the endpoints are off), 401 when `authorization` does not carry the key; none:
// it may go on. The key is compared in constant time and never logged.
std::optional<http_reply> ingest_refusal(const std::string& key, std::string_view authorization);

// POST /ingest/chats/:chat_oid/answers {"model_id"?}: 201 {"id","chat_id"}. Blocks on
// PostgreSQL (a database thread).
http_reply create_ingest_answer(persistence::pg_pool& pool, std::optional<std::int64_t> chat_id,
                                const std::string& body);

}  // namespace actorcable::net
