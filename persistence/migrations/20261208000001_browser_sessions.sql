-- Browser sessions (SPEC §17): the page's cookie carries a random session id, never a JWT. Its
-- row (keyed by the id's SHA-256, so the table holds nothing a browser could present) names the
-- user and the expiry; signing out deletes it, which every node sees at once.
CREATE TABLE browser_sessions (
  digest text PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX browser_sessions_user_id ON browser_sessions (user_id);
