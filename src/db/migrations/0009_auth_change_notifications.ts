/**
 * Sends a notification on the channel `cloud_platform_auth_changed` whenever
 * a change can end or narrow a caller's access: a user's role, tenant,
 * activity, name or password changes, or a user, an API token or a session
 * is revoked, expires earlier or is deleted. API processes cache the caller
 * of each token and session and empty that cache on this notification, so a
 * revocation made by any process (the API, the CLI, psql) reaches all of
 * them. PostgreSQL delivers a notification only after its transaction
 * commits. New users, tokens and sessions need no notification, because the
 * cache holds only credentials it has found valid.
 */
export const AUTH_CHANGED_CHANNEL = 'cloud_platform_auth_changed';

export const statements = [
  `CREATE FUNCTION notify_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM pg_notify('${AUTH_CHANGED_CHANNEL}', TG_TABLE_NAME);
    RETURN NULL;
  END
  $$`,

  `CREATE TRIGGER users_auth_changed
    AFTER UPDATE OF username, password_hash, role, tenant_id, is_active OR DELETE OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_changed()`,
  `CREATE TRIGGER api_tokens_auth_changed
    AFTER UPDATE OF user_id, token_hash, revoked_at OR DELETE OR TRUNCATE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_changed()`,
  `CREATE TRIGGER sessions_auth_changed
    AFTER UPDATE OF id_hash, user_id, expires_at OR DELETE OR TRUNCATE ON sessions
    FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_changed()`,
];
