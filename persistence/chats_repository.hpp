// Chats, always seen through a confirmed membership of their account.
#pragma once
#include "model/entities.hpp"
#include "persistence/pg/pg_connection.hpp"

#include <optional>
#include <vector>

namespace actorcable::persistence {

model::chat create_chat(pg_connection& conn, std::int64_t account_id, std::string_view title,
                        std::string_view model_id = {});

// Changes what is given of a chat the user may see; nothing (nullopt) when it is missing or
// foreign, in one statement either way.
std::optional<model::chat> update_chat_for_user(pg_connection& conn, std::int64_t user_id,
                                                std::int64_t chat_id,
                                                const std::optional<std::string>& title,
                                                const std::optional<std::string>& model_id);

// Chats the user may see, newest first.
std::vector<model::chat> chats_visible_to(pg_connection& conn, std::int64_t user_id);

// The chat if it exists and the user may see it; one query whether it is missing or foreign.
std::optional<model::chat> find_chat_for_user(pg_connection& conn, std::int64_t user_id,
                                              std::int64_t chat_id);

}  // namespace actorcable::persistence
