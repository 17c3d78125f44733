-- Answer parts (SPEC §9): the reasoning streamed before the text, the summary of the tool call
-- running now, and every tool call's last report in order.
ALTER TABLE messages
  ADD COLUMN thinking_text text NOT NULL DEFAULT '',
  ADD COLUMN tool_status   text,
  ADD COLUMN tool_calls    jsonb NOT NULL DEFAULT '[]';
