-- Revocation signals: a committed change that takes access away is announced on the channel
-- actorcable_access, so that live subscriptions end without polling.
CREATE FUNCTION actorcable_notify_access() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'memberships' THEN
    IF TG_OP = 'DELETE'
       OR (OLD.confirmed_at IS NOT NULL AND NEW.confirmed_at IS NULL)
       OR NEW.account_id <> OLD.account_id OR NEW.user_id <> OLD.user_id THEN
      PERFORM pg_notify('actorcable_access', json_build_object(
        'kind', 'membership', 'account_id', OLD.account_id, 'user_id', OLD.user_id)::text);
    END IF;
  ELSIF TG_TABLE_NAME = 'chats' THEN
    IF TG_OP = 'DELETE' OR NEW.account_id <> OLD.account_id THEN
      PERFORM pg_notify('actorcable_access', json_build_object(
        'kind', 'chat', 'chat_id', OLD.id)::text);
    END IF;
  ELSIF TG_TABLE_NAME = 'messages' THEN
    PERFORM pg_notify('actorcable_access', json_build_object(
      'kind', 'message', 'message_id', OLD.id, 'chat_id', OLD.chat_id)::text);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER memberships_access_changed AFTER DELETE OR UPDATE ON memberships
  FOR EACH ROW EXECUTE FUNCTION actorcable_notify_access();
CREATE TRIGGER chats_access_changed AFTER DELETE OR UPDATE OF account_id ON chats
  FOR EACH ROW EXECUTE FUNCTION actorcable_notify_access();
CREATE TRIGGER messages_access_changed AFTER DELETE ON messages
  FOR EACH ROW EXECUTE FUNCTION actorcable_notify_access();
