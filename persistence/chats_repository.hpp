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

// A page of them: up to `limit` chats the user may see, most recently active first, after the
// chat `before` (its place in that order now; a chat the user may not see gives an empty page,
// as a missing one does); `more` when older ones exist.
struct chat_page {
  std::vector<model::chat> chats;
  bool more = false;
};
chat_page page_of_chats(pg_connection& conn, std::int64_t user_id, std::optional<std::int64_t> before,
                        int limit);

// Creates a chat in `account_id` unless it holds `limit` chats already (0: no limit); the
// account's row is locked meanwhile, so parallel creations cannot pass the limit together.
std::optional<model::chat> create_chat_within(pg_connection& conn, std::int64_t account_id,
                                              std::string_view title, std::string_view model_id,
                                              int limit);

// The chat if it exists and the user may see it; one query whether it is missing or foreign.
std::optional<model::chat> find_chat_for_user(pg_connection& conn, std::int64_t user_id,
                                              std::int64_t chat_id);

}  // namespace actorcable::persistence
