-- Who asked for an answer: the per-user limits on streaming answers (SPEC §13) count by it.
ALTER TABLE messages ADD COLUMN requested_by bigint REFERENCES users(id) ON DELETE SET NULL;
CREATE INDEX index_messages_on_requested_by_and_created_at ON messages (requested_by, created_at)
  WHERE requested_by IS NOT NULL;
