#include "persistence/chats_repository.hpp"

#include "persistence/row_format.hpp"

namespace actorcable::persistence {
namespace {

model::chat chat_from(const pg_result& r, int i) {
  return model::chat{r.int64(i, 0), r.int64(i, 1), r.text(i, 2), r.text(i, 3), r.text(i, 4),
                     r.text(i, 5)};
}

}  // namespace

model::chat create_chat(pg_connection& conn, std::int64_t account_id, std::string_view title,
                        std::string_view model_id) {
  auto res = conn.exec("WITH c AS (INSERT INTO chats (account_id, title, model_id) "
                       "VALUES ($1, $2, NULLIF($3, '')) RETURNING *) SELECT " AC_CHAT_COLUMNS " FROM c",
                       {param(account_id), param(title), param(model_id)});
  return chat_from(res, 0);
}

std::optional<model::chat> update_chat_for_user(pg_connection& conn, std::int64_t user_id,
                                                std::int64_t chat_id,
                                                const std::optional<std::string>& title,
                                                const std::optional<std::string>& model_id) {
  auto res = conn.exec("WITH c AS (UPDATE chats c SET title = CASE WHEN $3::boolean THEN $4 ELSE title END, "
                       "model_id = CASE WHEN $5::boolean THEN $6 ELSE model_id END, updated_at = now() "
                       "WHERE c.id = $2 AND " AC_VISIBLE_CHAT " RETURNING c.*) "
                       "SELECT " AC_CHAT_COLUMNS " FROM c",
                       {param(user_id), param(chat_id), param(title.has_value()),
                        param(title.value_or("")), param(model_id.has_value()),
                        param(model_id.value_or(""))});
  if (res.rows() == 0)
    return std::nullopt;
  return chat_from(res, 0);
}

std::vector<model::chat> chats_visible_to(pg_connection& conn, std::int64_t user_id) {
  auto res = conn.exec("SELECT " AC_CHAT_COLUMNS " FROM chats c WHERE " AC_VISIBLE_CHAT
                       " ORDER BY c.updated_at DESC, c.id DESC",
                       {param(user_id)});
  std::vector<model::chat> out;
  for (int i = 0; i < res.rows(); ++i)
    out.push_back(chat_from(res, i));
  return out;
}

chat_page page_of_chats(pg_connection& conn, std::int64_t user_id, std::optional<std::int64_t> before,
                        int limit) {
  auto res = conn.exec("SELECT " AC_CHAT_COLUMNS " FROM chats c WHERE " AC_VISIBLE_CHAT
                       " AND (NOT $2::boolean OR (c.updated_at, c.id) < (SELECT c.updated_at, c.id "
                       "FROM chats c WHERE c.id = $3 AND " AC_VISIBLE_CHAT ")) "
                       "ORDER BY c.updated_at DESC, c.id DESC LIMIT $4",
                       {param(user_id), param(before.has_value()), param(before.value_or(0)),
                        param(static_cast<std::int64_t>(limit) + 1)});
  chat_page page;
  for (int i = 0; i < res.rows() && i < limit; ++i)
    page.chats.push_back(chat_from(res, i));
  page.more = res.rows() > limit;
  return page;
}

std::optional<model::chat> create_chat_within(pg_connection& conn, std::int64_t account_id,
                                              std::string_view title, std::string_view model_id,
                                              int limit) {
  return conn.transaction([&]() -> std::optional<model::chat> {
    conn.exec("SELECT id FROM accounts WHERE id = $1 FOR UPDATE", {param(account_id)});
    if (limit > 0
        && conn.exec("SELECT count(*) FROM chats WHERE account_id = $1", {param(account_id)}).int64(0, 0) >= limit)
      return std::nullopt;
    return create_chat(conn, account_id, title, model_id);
  });
}

std::optional<model::chat> find_chat_for_user(pg_connection& conn, std::int64_t user_id,
                                              std::int64_t chat_id) {
  auto res = conn.exec("SELECT " AC_CHAT_COLUMNS " FROM chats c WHERE c.id = $2 AND "
                       AC_VISIBLE_CHAT,
                       {param(user_id), param(chat_id)});
  if (res.rows() == 0)
    return std::nullopt;
  return chat_from(res, 0);
}

}  // namespace actorcable::persistence
