-- Answers outlive their process (SPEC §12): how many times a node took a streaming answer over
-- (handover or takeover), and which answers an outside producer streams (SPEC §11): those are
-- never continued, their producer is gone with the node.
ALTER TABLE messages
  ADD COLUMN continuations integer NOT NULL DEFAULT 0,
  ADD COLUMN ingest boolean NOT NULL DEFAULT false;
UPDATE messages SET ingest = true WHERE streaming AND role = 'assistant' AND requested_by IS NULL;
