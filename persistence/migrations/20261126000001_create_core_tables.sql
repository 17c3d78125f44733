-- The seed application's tables (SPEC §2) plus what streaming needs to end cleanly.
CREATE TABLE accounts (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id bigserial PRIMARY KEY,
  email_address text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX index_users_on_email_address ON users (email_address);

CREATE TABLE memberships (
  id bigserial PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role text NOT NULL DEFAULT 'member',
  confirmed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX index_memberships_on_account_id_and_user_id ON memberships (account_id, user_id);
CREATE INDEX index_memberships_on_user_id ON memberships (user_id);

CREATE TABLE chats (
  id bigserial PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  title text,
  model_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX index_chats_on_account_id ON chats (account_id);

CREATE TABLE messages (
  id bigserial PRIMARY KEY,
  chat_id bigint NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
  user_id bigint REFERENCES users(id) ON DELETE SET NULL,
  role text NOT NULL,
  content text NOT NULL DEFAULT '',
  model_id text,
  input_tokens integer,
  output_tokens integer,
  streaming boolean NOT NULL DEFAULT false,
  -- Why the stream ended: complete | error | cancelled | interrupted (NULL while streaming).
  stream_status text,
  stream_error text,
  -- Crash safety: the node that owns a streaming row, and until when its lease holds.
  owner_node text,
  lease_expires_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX index_messages_on_chat_id ON messages (chat_id);
CREATE INDEX index_messages_on_streaming ON messages (streaming);
