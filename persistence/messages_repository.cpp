#include "persistence/messages_repository.hpp"

#include "persistence/row_format.hpp"

#include <algorithm>

namespace actorcable::persistence {
namespace {

model::message message_from(const pg_result& r, int i) {
  model::message m;
  m.id = r.int64(i, 0);
  m.chat_id = r.int64(i, 1);
  m.user_id = r.opt_int64(i, 2);
  m.role = r.text(i, 3);
  m.content = r.text(i, 4);
  m.model_id = r.text(i, 5);
  m.input_tokens = r.opt_int64(i, 6);
  m.output_tokens = r.opt_int64(i, 7);
  m.streaming = r.boolean(i, 8);
  m.stream_status = r.text(i, 9);
  m.stream_error = r.text(i, 10);
  m.created_at = r.text(i, 11);
  m.updated_at = r.text(i, 12);
  m.thinking_text = r.text(i, 13);
  m.tool_status = r.text(i, 14);
  m.tool_calls = r.text(i, 15);
  return m;
}

}  // namespace

std::vector<model::message> messages_of_chat(pg_connection& conn, std::int64_t chat_id) {
  auto res = conn.exec("SELECT " AC_MESSAGE_COLUMNS " FROM messages m WHERE m.chat_id = $1 "
                       "ORDER BY m.id",
                       {param(chat_id)});
  std::vector<model::message> out;
  for (int i = 0; i < res.rows(); ++i)
    out.push_back(message_from(res, i));
  return out;
}

message_page page_of_chat(pg_connection& conn, std::int64_t chat_id,
                          std::optional<std::int64_t> before, int limit, std::int64_t max_bytes) {
  // Sizes first (no text leaves the database), then the text of what fits.
  auto sizes = conn.exec("SELECT id, octet_length(content) FROM messages WHERE chat_id = $1 "
                         "AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
                         {param(chat_id), param(before), param(std::int64_t{limit} + 1)});
  std::string ids = "{";
  std::int64_t bytes = 0;
  int kept = 0;
  for (; kept < sizes.rows() && kept < limit; ++kept) {
    bytes += sizes.int64(kept, 1);
    if (kept > 0 && bytes > max_bytes)
      break;
    ids += (kept ? "," : "") + std::to_string(sizes.int64(kept, 0));
  }
  ids += "}";
  message_page page;
  if (kept < sizes.rows())
    page.older = sizes.int64(kept - 1, 0);
  auto res = conn.exec("SELECT " AC_MESSAGE_COLUMNS " FROM messages m WHERE m.id = ANY($1::bigint[]) "
                       "ORDER BY m.id",
                       {param(ids)});
  for (int i = 0; i < res.rows(); ++i)
    page.messages.push_back(message_from(res, i));
  return page;
}

std::optional<model::message> find_message(pg_connection& conn, std::int64_t message_id) {
  auto res = conn.exec("SELECT " AC_MESSAGE_COLUMNS " FROM messages m WHERE m.id = $1",
                       {param(message_id)});
  if (res.rows() == 0)
    return std::nullopt;
  return message_from(res, 0);
}

std::optional<model::message> find_message_for_user(pg_connection& conn, std::int64_t user_id,
                                                    std::int64_t message_id) {
  auto res = conn.exec("SELECT " AC_MESSAGE_COLUMNS " FROM messages m "
                       "JOIN chats c ON c.id = m.chat_id WHERE m.id = $2 AND " AC_VISIBLE_CHAT,
                       {param(user_id), param(message_id)});
  if (res.rows() == 0)
    return std::nullopt;
  return message_from(res, 0);
}

std::variant<exchange, limit_refusal> try_create_exchange(pg_connection& conn,
                                                          std::int64_t chat_id,
                                                          std::int64_t user_id,
                                                          std::string_view content,
                                                          std::string_view owner_node,
                                                          int lease_seconds,
                                                          const answer_limits& limits,
                                                          on_busy busy) {
  return conn.transaction([&]() -> std::variant<exchange, limit_refusal> {
    if (limits.concurrent > 0 || limits.per_minute > 0) {
      // Held to the end of the transaction: one user's requests are counted one at a time.
      conn.exec("SELECT pg_advisory_xact_lock(1634890595, ($1::bigint % 2147483647)::int)",
                {param(user_id)});
      auto c = conn.exec(
        "SELECT count(*) FILTER (WHERE streaming), "
        "count(*) FILTER (WHERE created_at > now() - interval '1 minute'), "
        "coalesce(ceil(extract(epoch FROM min(created_at) FILTER (WHERE created_at > now() - "
        "interval '1 minute') + interval '1 minute' - now())), 1)::int "
        "FROM messages WHERE requested_by = $1 AND (streaming OR created_at > now() - interval "
        "'1 minute')",
        {param(user_id)});
      if (limits.concurrent > 0 && c.int64(0, 0) >= limits.concurrent)
        return limit_refusal{limit_refusal::kind::concurrent, 0};
      if (limits.per_minute > 0 && c.int64(0, 1) >= limits.per_minute)
        return limit_refusal{limit_refusal::kind::per_minute,
                             std::max<int>(1, static_cast<int>(c.int64(0, 2)))};
    }
    // The chat's row lock orders the questions of one chat: each sees the answers before it.
    conn.exec("SELECT 1 FROM chats WHERE id = $1 FOR UPDATE", {param(chat_id)});
    auto streaming = conn.exec("SELECT id FROM messages WHERE chat_id = $1 AND streaming "
                               "AND role = 'assistant' ORDER BY id",
                               {param(chat_id)});
    std::vector<std::int64_t> busy_ids;
    for (int i = 0; i < streaming.rows(); ++i)
      busy_ids.push_back(streaming.int64(i, 0));
    if (busy == on_busy::reject && !busy_ids.empty())
      return limit_refusal{limit_refusal::kind::busy, 0};
    auto q = conn.exec("WITH m AS (INSERT INTO messages (chat_id, user_id, role, content) "
                       "VALUES ($1, $2, 'user', $3) RETURNING *) "
                       "SELECT " AC_MESSAGE_COLUMNS " FROM m",
                       {param(chat_id), param(user_id), param(content)});
    auto a = conn.exec("WITH m AS (INSERT INTO messages (chat_id, role, content, streaming, "
                       "owner_node, lease_expires_at, requested_by) VALUES ($1, 'assistant', '', "
                       "true, $2, now() + make_interval(secs => $3), $4) RETURNING *) "
                       "SELECT " AC_MESSAGE_COLUMNS " FROM m",
                       {param(chat_id), param(owner_node), param(std::int64_t{lease_seconds}),
                        param(user_id)});
    conn.exec("UPDATE chats SET updated_at = now() WHERE id = $1", {param(chat_id)});
    return exchange{message_from(q, 0), message_from(a, 0), std::move(busy_ids)};
  });
}

exchange create_exchange(pg_connection& conn, std::int64_t chat_id, std::int64_t user_id,
                         std::string_view content, std::string_view owner_node,
                         int lease_seconds) {
  return std::get<exchange>(
    try_create_exchange(conn, chat_id, user_id, content, owner_node, lease_seconds,
                        answer_limits{0, 0}));
}

std::optional<model::message> create_ingest_answer(pg_connection& conn, std::int64_t chat_id,
                                                   std::string_view model_id) {
  return conn.transaction([&]() -> std::optional<model::message> {
    auto a = conn.exec("WITH m AS (INSERT INTO messages (chat_id, role, content, streaming, model_id, "
                       "ingest) SELECT id, 'assistant', '', true, NULLIF($2, ''), true FROM chats WHERE id = $1 "
                       "RETURNING *) SELECT " AC_MESSAGE_COLUMNS " FROM m",
                       {param(chat_id), param(model_id)});
    if (a.rows() == 0)
      return std::nullopt;
    conn.exec("UPDATE chats SET updated_at = now() WHERE id = $1", {param(chat_id)});
    return message_from(a, 0);
  });
}

std::vector<model::chat_turn> chat_history(pg_connection& conn, std::int64_t chat_id,
                                           std::int64_t before_message_id,
                                           std::size_t max_chars) {
  // The budget is applied in the database, newest first: only the turns that fit leave it (the
  // newest always, cut to the budget), however long the chat. octet_length reads no TOASTed text.
  auto res = conn.exec(
    "SELECT role, left(content, $3::int), id FROM ("
    "  SELECT id, role, content, row_number() OVER w AS n, sum(octet_length(content)) OVER w AS used"
    "  FROM (SELECT id, role, content FROM messages WHERE chat_id = $1 AND id < $2"
    "        AND (content <> '' OR streaming) ORDER BY id DESC LIMIT 1000) recent"
    "  WINDOW w AS (ORDER BY id DESC)) t "
    "WHERE n = 1 OR used <= $3::bigint ORDER BY id DESC",
    {param(chat_id), param(before_message_id),
     param(static_cast<std::int64_t>(std::min<std::size_t>(max_chars, INT32_MAX)))});
  std::vector<model::chat_turn> out;
  for (int i = 0; i < res.rows(); ++i)
    out.push_back({res.text(i, 0), res.text(i, 1), res.int64(i, 2)});
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace actorcable::persistence
