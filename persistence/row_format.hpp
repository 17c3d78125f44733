// SQL fragments shared by the repositories so every row is read the same way.
#pragma once

#define AC_TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

#define AC_CHAT_COLUMNS \
  "c.id, c.account_id, coalesce(c.title, ''), coalesce(c.model_id, ''), " \
  AC_TS("c.created_at") ", " AC_TS("c.updated_at")

#define AC_MESSAGE_COLUMNS \
  "m.id, m.chat_id, m.user_id, m.role, m.content, coalesce(m.model_id, ''), m.input_tokens, " \
  "m.output_tokens, m.streaming, coalesce(m.stream_status, ''), coalesce(m.stream_error, ''), " \
  AC_TS("m.created_at") ", " AC_TS("m.updated_at") ", m.thinking_text, coalesce(m.tool_status, ''), " \
  "m.tool_calls::text"

// A confirmed membership of the user (parameter $1) in the account of chat alias c.
#define AC_VISIBLE_CHAT \
  "EXISTS (SELECT 1 FROM memberships ms WHERE ms.account_id = c.account_id " \
  "AND ms.user_id = $1 AND ms.confirmed_at IS NOT NULL)"
