// Authorization: what a user may see, decided by one query that joins through a confirmed
// membership of the object's account (the predicate AC_VISIBLE_CHAT in row_format.hpp, shared with
// the repositories). A missing and a foreign object cost the same query and give the same answer.
#pragma once
#include "persistence/pg/pg_connection.hpp"

#include <optional>

namespace actorcable::persistence {

struct access_scope {
  std::int64_t account_id = 0;
  std::int64_t chat_id = 0;
};

std::optional<access_scope> message_access(pg_connection& conn, std::int64_t user_id,
                                           std::int64_t message_id);
std::optional<access_scope> chat_access(pg_connection& conn, std::int64_t user_id,
                                        std::int64_t chat_id);
// A confirmed member of the account (its chat list, SPEC §11); chat_id is 0.
std::optional<access_scope> account_access(pg_connection& conn, std::int64_t user_id,
                                           std::int64_t account_id);

// The channel the database announces revocations on (see the access_notifications migration).
inline constexpr const char* access_channel = "actorcable_access";
// The channel the database announces changes of chats and messages on (sync_notifications).
inline constexpr const char* sync_channel = "actorcable_sync";

}  // namespace actorcable::persistence
