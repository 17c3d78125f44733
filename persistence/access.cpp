#include "persistence/access.hpp"

#include "persistence/row_format.hpp"

namespace actorcable::persistence {
namespace {

std::optional<access_scope> scope_of(const pg_result& r) {
  if (r.rows() == 0)
    return std::nullopt;
  return access_scope{r.int64(0, 0), r.int64(0, 1)};
}

}  // namespace

std::optional<access_scope> message_access(pg_connection& conn, std::int64_t user_id,
                                           std::int64_t message_id) {
  return scope_of(conn.exec("SELECT c.account_id, c.id FROM messages m JOIN chats c ON c.id = m.chat_id "
                            "WHERE m.id = $2 AND " AC_VISIBLE_CHAT,
                            {param(user_id), param(message_id)}));
}

std::optional<access_scope> chat_access(pg_connection& conn, std::int64_t user_id,
                                        std::int64_t chat_id) {
  return scope_of(conn.exec("SELECT c.account_id, c.id FROM chats c WHERE c.id = $2 AND "
                            AC_VISIBLE_CHAT,
                            {param(user_id), param(chat_id)}));
}

std::optional<access_scope> account_access(pg_connection& conn, std::int64_t user_id,
                                           std::int64_t account_id) {
  return scope_of(conn.exec("SELECT account_id, 0::bigint FROM memberships WHERE account_id = $2 "
                            "AND user_id = $1 AND confirmed_at IS NOT NULL",
                            {param(user_id), param(account_id)}));
}

}  // namespace actorcable::persistence
