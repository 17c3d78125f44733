#include "persistence/chats_repository.hpp"

#include "persistence/row_format.hpp"

namespace actorcable::persistence {
namespace {

model::chat chat_from(const pg_result& r, int i) {
  return model::chat{r.int64(i, 0), r.int64(i, 1), r.text(i, 2), r.text(i, 3), r.text(i, 4),
                     r.text(i, 5)};
}

}  // namespace

model::chat create_chat(pg_connection& conn, std::int64_t account_id, std::string_view title) {
  auto res = conn.exec("WITH c AS (INSERT INTO chats (account_id, title) VALUES ($1, $2) "
                       "RETURNING *) SELECT " AC_CHAT_COLUMNS " FROM c",
                       {param(account_id), param(title)});
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
