// Chats, always seen through a confirmed membership of their account.
#pragma once
#include "model/entities.hpp"
#include "persistence/pg/pg_connection.hpp"

#include <optional>
#include <vector>

namespace actorcable::persistence {

model::chat create_chat(pg_connection& conn, std::int64_t account_id, std::string_view title);

// Chats the user may see, newest first.
std::vector<model::chat> chats_visible_to(pg_connection& conn, std::int64_t user_id);

// The chat if it exists and the user may see it; one query whether it is missing or foreign.
std::optional<model::chat> find_chat_for_user(pg_connection& conn, std::int64_t user_id,
                                              std::int64_t chat_id);

}  // namespace actorcable::persistence
