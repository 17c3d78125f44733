-- Sync signals (SPEC §11): committed changes of chats, and of messages outside a stream, are
-- announced on actorcable_sync, so that subscribers see what the application changes with its
-- own SQL too. A stream's appends are not announced (they reach subscribers as parts); its end is.
CREATE FUNCTION actorcable_notify_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'chats' THEN
    IF TG_OP = 'UPDATE' THEN
      PERFORM pg_notify('actorcable_sync', json_build_object(
        'kind', 'chat', 'chat_id', NEW.id, 'account_id', NEW.account_id)::text);
      IF NEW.account_id <> OLD.account_id THEN
        PERFORM pg_notify('actorcable_sync', json_build_object(
          'kind', 'chats', 'account_id', OLD.account_id)::text);
      END IF;
    ELSIF TG_OP = 'INSERT' THEN
      PERFORM pg_notify('actorcable_sync', json_build_object(
        'kind', 'chats', 'account_id', NEW.account_id)::text);
    ELSE
      PERFORM pg_notify('actorcable_sync', json_build_object(
        'kind', 'chats', 'account_id', OLD.account_id)::text);
    END IF;
  ELSIF OLD.streaming AND NOT NEW.streaming THEN
    PERFORM pg_notify('actorcable_sync', json_build_object(
      'kind', 'ended', 'message_id', NEW.id, 'chat_id', NEW.chat_id,
      'status', COALESCE(NEW.stream_status, 'complete'))::text);
  ELSIF NOT OLD.streaming AND NOT NEW.streaming THEN
    PERFORM pg_notify('actorcable_sync', json_build_object(
      'kind', 'message', 'message_id', NEW.id)::text);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER chats_sync_listed AFTER INSERT OR DELETE ON chats
  FOR EACH ROW EXECUTE FUNCTION actorcable_notify_sync();
CREATE TRIGGER chats_sync_changed AFTER UPDATE ON chats
  FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION actorcable_notify_sync();
-- Appends to a streaming row (many a second) stop at the first test.
CREATE TRIGGER messages_sync_changed AFTER UPDATE ON messages
  FOR EACH ROW WHEN (NOT NEW.streaming AND OLD.* IS DISTINCT FROM NEW.*)
  EXECUTE FUNCTION actorcable_notify_sync();
