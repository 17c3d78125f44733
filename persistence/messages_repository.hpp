// Messages of chats: reading them, and creating a user turn with its streaming answer.
#pragma once
#include "model/entities.hpp"
#include "persistence/pg_connection.hpp"

#include <optional>
#include <utility>
#include <vector>

namespace actorcable::persistence {

// Oldest first.
std::vector<model::message> messages_of_chat(pg_connection& conn, std::int64_t chat_id);

std::optional<model::message> find_message(pg_connection& conn, std::int64_t message_id);

// The message if it exists and the user may see it; one query whether it is missing or foreign.
std::optional<model::message> find_message_for_user(pg_connection& conn, std::int64_t user_id,
                                                    std::int64_t message_id);

struct exchange {
  model::message question;
  model::message answer;  // streaming = true, owned by `owner_node`
};

// Inserts the user's message and the assistant's empty streaming message in one transaction.
exchange create_exchange(pg_connection& conn, std::int64_t chat_id, std::int64_t user_id,
                         std::string_view content, std::string_view owner_node,
                         int lease_seconds);

// Earlier turns of the chat before `before_message_id`, oldest first, at most `max_chars` of
// content counted from the newest.
std::vector<model::chat_turn> chat_history(pg_connection& conn, std::int64_t chat_id,
                                           std::int64_t before_message_id,
                                           std::size_t max_chars);

}  // namespace actorcable::persistence
