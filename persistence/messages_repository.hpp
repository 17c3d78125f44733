// Messages of chats: reading them, and creating a user turn with its streaming answer.
#pragma once
#include "model/entities.hpp"
#include "persistence/pg/pg_connection.hpp"

#include <optional>
#include <utility>
#include <variant>
#include <vector>

namespace actorcable::persistence {

// Oldest first.
std::vector<model::message> messages_of_chat(pg_connection& conn, std::int64_t chat_id);

// The newest messages before `before` (all when absent), oldest first: at most `limit`, and no
// more content than `max_bytes` (the newest one always). `older`: the id to page on from, when
// there are more.
struct message_page {
  std::vector<model::message> messages;
  std::optional<std::int64_t> older;
};
message_page page_of_chat(pg_connection& conn, std::int64_t chat_id,
                          std::optional<std::int64_t> before, int limit, std::int64_t max_bytes);

std::optional<model::message> find_message(pg_connection& conn, std::int64_t message_id);

// The message if it exists and the user may see it; one query whether it is missing or foreign.
std::optional<model::message> find_message_for_user(pg_connection& conn, std::int64_t user_id,
                                                    std::int64_t message_id);

struct exchange {
  model::message question;
  model::message answer;  // streaming = true, owned by `owner_node`
  std::vector<std::int64_t> busy;  // the chat's answers still streaming when it was made, oldest first
};

// What a new question does while an answer of its chat still streams (SPEC §9).
enum class on_busy { cancel, queue, reject };

// Per-user bounds on answers (SPEC §13); 0: no bound.
struct answer_limits {
  int concurrent = 0;  // streaming at once
  int per_minute = 0;  // started in the last 60 s
};

// Why an exchange was not created.
struct limit_refusal {
  enum class kind { concurrent, per_minute, busy } what;  // busy: on_busy::reject
  int retry_after_s = 0;  // for per_minute: when the oldest answer of the window leaves it
};

// Inserts the user's message and the assistant's empty streaming message in one transaction,
// unless that would break `limits` (checked under a per-user lock, so concurrent requests of one
// user cannot both pass) or, with on_busy::reject, an answer of the chat still streams (under
// the chat's row lock).
std::variant<exchange, limit_refusal> try_create_exchange(pg_connection& conn,
                                                          std::int64_t chat_id,
                                                          std::int64_t user_id,
                                                          std::string_view content,
                                                          std::string_view owner_node,
                                                          int lease_seconds,
                                                          const answer_limits& limits,
                                                          on_busy busy = on_busy::cancel);

// The same without limits.
exchange create_exchange(pg_connection& conn, std::int64_t chat_id, std::int64_t user_id,
                         std::string_view content, std::string_view owner_node,
                         int lease_seconds);

// An answer an outside producer will stream (SPEC §11): an assistant message with
// `streaming = true`, no owner and no lease until a producer's stream claims it. Nothing when
// the chat does not exist.
std::optional<model::message> create_ingest_answer(pg_connection& conn, std::int64_t chat_id,
                                                   std::string_view model_id);

// Earlier turns of the chat before `before_message_id`, oldest first, at most `max_chars` of
// content counted from the newest; answers still streaming are among them (with what they have
// so far) so that their final text can take their place.
std::vector<model::chat_turn> chat_history(pg_connection& conn, std::int64_t chat_id,
                                           std::int64_t before_message_id,
                                           std::size_t max_chars);

}  // namespace actorcable::persistence
