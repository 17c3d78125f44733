#include "persistence/users_repository.hpp"

namespace actorcable::persistence {

model::user ensure_user_with_account(pg_connection& conn, std::string_view email) {
  return conn.transaction([&] {
    auto ins = conn.exec("INSERT INTO users (email_address) VALUES ($1) "
                         "ON CONFLICT (email_address) DO NOTHING RETURNING id",
                         {param(email)});
    if (ins.rows() == 1) {
      auto user_id = ins.int64(0, 0);
      auto acc = conn.exec("INSERT INTO accounts (name) VALUES ($1) RETURNING id",
                           {param(std::string(email))});
      add_membership(conn, acc.int64(0, 0), user_id, "owner", true);
      return model::user{user_id, std::string(email)};
    }
    auto sel = conn.exec("SELECT id FROM users WHERE email_address = $1", {param(email)});
    return model::user{sel.int64(0, 0), std::string(email)};
  });
}

std::optional<model::user> find_user(pg_connection& conn, std::int64_t id) {
  auto res = conn.exec("SELECT id, email_address FROM users WHERE id = $1", {param(id)});
  if (res.rows() == 0)
    return std::nullopt;
  return model::user{res.int64(0, 0), res.text(0, 1)};
}

std::optional<std::int64_t> default_account_id(pg_connection& conn, std::int64_t user_id) {
  auto res = conn.exec("SELECT account_id FROM memberships WHERE user_id = $1 "
                       "AND confirmed_at IS NOT NULL ORDER BY id LIMIT 1",
                       {param(user_id)});
  if (res.rows() == 0)
    return std::nullopt;
  return res.int64(0, 0);
}

void add_membership(pg_connection& conn, std::int64_t account_id, std::int64_t user_id,
                    std::string_view role, bool confirmed) {
  conn.exec("INSERT INTO memberships (account_id, user_id, role, confirmed_at) "
            "VALUES ($1, $2, $3, CASE WHEN $4::boolean THEN now() END) "
            "ON CONFLICT (account_id, user_id) DO UPDATE SET role = EXCLUDED.role, "
            "confirmed_at = EXCLUDED.confirmed_at, updated_at = now()",
            {param(account_id), param(user_id), param(role), param(confirmed)});
}

void remove_membership(pg_connection& conn, std::int64_t account_id, std::int64_t user_id) {
  conn.exec("DELETE FROM memberships WHERE account_id = $1 AND user_id = $2",
            {param(account_id), param(user_id)});
}

}  // namespace actorcable::persistence
