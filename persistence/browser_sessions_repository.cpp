#include "persistence/browser_sessions_repository.hpp"

namespace actorcable::persistence {

void create_browser_session(pg_connection& conn, std::string_view digest, std::int64_t user_id,
                            std::int64_t expires_at) {
  conn.exec("WITH gone AS (DELETE FROM browser_sessions WHERE user_id = $2 AND expires_at <= now()) "
            "INSERT INTO browser_sessions (digest, user_id, expires_at) "
            "VALUES ($1, $2, to_timestamp($3::bigint))",
            {param(digest), param(user_id), param(expires_at)});
}

std::optional<std::int64_t> browser_session_user(pg_connection& conn, std::string_view digest) {
  auto res = conn.exec("SELECT user_id FROM browser_sessions WHERE digest = $1 AND expires_at > now()",
                       {param(digest)});
  if (res.rows() == 0)
    return std::nullopt;
  return res.int64(0, 0);
}

bool delete_browser_session(pg_connection& conn, std::string_view digest) {
  return conn.exec("DELETE FROM browser_sessions WHERE digest = $1 RETURNING user_id", {param(digest)})
           .rows() == 1;
}

}  // namespace actorcable::persistence
