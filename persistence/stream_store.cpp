#include "persistence/stream_store.hpp"

namespace actorcable::persistence {

std::string pg_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0)
      out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\')
        out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

bool claim_stream(pg_connection& conn, std::int64_t message_id, const std::string& node,
                  int lease_seconds) {
  auto res = conn.exec("UPDATE messages SET owner_node = $2, "
                       "lease_expires_at = now() + make_interval(secs => $3) "
                       "WHERE id = $1 AND streaming AND (owner_node IS NULL OR owner_node = $2 "
                       "OR lease_expires_at IS NULL OR lease_expires_at < now()) RETURNING id",
                       {param(message_id), param(node), param(std::int64_t{lease_seconds})});
  return res.rows() == 1;
}

std::vector<std::int64_t> append_contents(pg_connection& conn, const std::string& node,
                                          const std::vector<stream_append>& appends) {
  std::vector<std::string> ids, deltas, bases, thinking, thinking_bases, tools, statuses, calls;
  for (auto& a : appends) {
    ids.push_back(std::to_string(a.message_id));
    deltas.push_back(a.delta);
    bases.push_back(std::to_string(a.base_bytes));
    thinking.push_back(a.thinking_delta);
    thinking_bases.push_back(std::to_string(a.thinking_base_bytes));
    tools.push_back(a.tools_changed ? "t" : "f");
    statuses.push_back(a.tool_status);
    calls.push_back(a.tools_changed ? a.tool_calls : "[]");
  }
  auto res = conn.exec(
    "UPDATE messages m SET content = m.content || v.delta, "
    "thinking_text = m.thinking_text || v.thinking, "
    "tool_status = CASE WHEN v.tools THEN NULLIF(v.status, '') ELSE m.tool_status END, "
    "tool_calls = CASE WHEN v.tools THEN v.calls::jsonb ELSE m.tool_calls END, updated_at = now() "
    "FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::boolean[], "
    "$7::text[], $8::text[]) AS v(id, delta, base, thinking, thinking_base, tools, status, calls) "
    "WHERE m.id = v.id AND m.streaming AND m.owner_node = $9 "
    "AND octet_length(m.content) = v.base AND octet_length(m.thinking_text) = v.thinking_base "
    "RETURNING m.id",
    {pg_array(ids), pg_array(deltas), pg_array(bases), pg_array(thinking), pg_array(thinking_bases),
     pg_array(tools), pg_array(statuses), pg_array(calls), param(node)});
  std::vector<std::int64_t> done;
  for (int i = 0; i < res.rows(); ++i)
    done.push_back(res.int64(i, 0));
  return done;
}

bool finish_stream(pg_connection& conn, const std::string& node, const stream_end& end) {
  auto res = conn.exec(
    "UPDATE messages SET content = $3, thinking_text = $9, tool_status = NULL, "
    "tool_calls = $10::jsonb, streaming = false, stream_status = $4, "
    "stream_error = NULLIF($5, ''), model_id = COALESCE(NULLIF($6, ''), model_id), "
    "input_tokens = COALESCE($7::integer, input_tokens), "
    "output_tokens = COALESCE($8::integer, output_tokens), "
    "lease_expires_at = NULL, updated_at = now() "
    "WHERE id = $1 AND streaming AND owner_node = $2 RETURNING id",
    {param(end.message_id), param(node), param(end.content), param(end.status), param(end.error),
     param(end.model_id), param(end.input_tokens), param(end.output_tokens), param(end.thinking),
     param(end.tool_calls)});
  return res.rows() == 1;
}

std::vector<std::int64_t> renew_leases(pg_connection& conn, const std::string& node,
                                       int lease_seconds, const std::vector<std::int64_t>& ids) {
  if (ids.empty())
    return {};
  std::vector<std::string> texts;
  for (auto id : ids)
    texts.push_back(std::to_string(id));
  auto res = conn.exec("UPDATE messages SET lease_expires_at = now() + make_interval(secs => $2) "
                       "WHERE streaming AND owner_node = $1 AND id = ANY($3::bigint[]) RETURNING id",
                       {param(node), param(std::int64_t{lease_seconds}), pg_array(texts)});
  std::vector<std::int64_t> renewed;
  for (int i = 0; i < res.rows(); ++i)
    renewed.push_back(res.int64(i, 0));
  return renewed;
}

std::vector<std::int64_t> close_orphans(pg_connection& conn, const std::string& node,
                                        bool including_own, orphans which) {
  auto res = conn.exec(
    "UPDATE messages SET streaming = false, "
    "stream_status = CASE WHEN ingest AND $3::boolean THEN 'error' ELSE 'interrupted' END, "
    "stream_error = CASE WHEN ingest AND $3::boolean THEN 'producer lost' "
    "ELSE 'owner ' || coalesce(owner_node, '?') || ' is gone' END, "
    "lease_expires_at = NULL, updated_at = now() "
    "WHERE streaming AND (ingest OR NOT $3::boolean) "
    "AND ((owner_node = $1 AND $2::boolean) OR lease_expires_at < now() "
    "OR (lease_expires_at IS NULL AND updated_at < now() - interval '60 seconds')) "
    "RETURNING id",
    {param(node), param(including_own), param(which == orphans::ingest_only)});
  std::vector<std::int64_t> ids;
  for (int i = 0; i < res.rows(); ++i)
    ids.push_back(res.int64(i, 0));
  return ids;
}

std::vector<taken_stream> take_orphans(pg_connection& conn, const std::string& node,
                                       int lease_seconds, taking which,
                                       const std::vector<std::int64_t>& only) {
  std::vector<std::string> ids;
  for (auto id : only)
    ids.push_back(std::to_string(id));
  // Under READ COMMITTED a row another node took meanwhile is checked again after its lock:
  // its lease is then in the future and the row is skipped.
  auto res = conn.exec(
    "UPDATE messages SET owner_node = $1, lease_expires_at = now() + make_interval(secs => $2), "
    "continuations = continuations + 1, updated_at = now() "
    "WHERE streaming AND NOT ingest AND role = 'assistant' "
    "AND (cardinality($4::bigint[]) = 0 OR id = ANY($4::bigint[])) "
    "AND CASE WHEN $3::boolean THEN owner_node = $1 "
    "ELSE (lease_expires_at < now() OR (lease_expires_at IS NULL AND "
    "updated_at < now() - interval '60 seconds')) END "
    "RETURNING id, chat_id, content, thinking_text, tool_calls::text, coalesce(model_id, ''), "
    "continuations",
    {param(node), param(std::int64_t{lease_seconds}), param(which == taking::own), pg_array(ids)});
  std::vector<taken_stream> rows;
  for (int i = 0; i < res.rows(); ++i)
    rows.push_back({res.int64(i, 0), res.int64(i, 1), res.text(i, 2), res.text(i, 3), res.text(i, 4),
                    res.text(i, 5), res.int64(i, 6)});
  return rows;
}

bool release_stream(pg_connection& conn, const std::string& node, const stream_end& state) {
  auto res = conn.exec(
    "UPDATE messages SET content = $3, thinking_text = $4, tool_calls = $5::jsonb, "
    "lease_expires_at = now() - interval '1 second', updated_at = now() "
    "WHERE id = $1 AND streaming AND owner_node = $2 RETURNING id",
    {param(state.message_id), param(node), param(state.content), param(state.thinking),
     param(state.tool_calls)});
  return res.rows() == 1;
}

}  // namespace actorcable::persistence
