-- Ends every live session of one user, except $3 when it is not NULL (the caller's own).
-- $1 org_id uuid, $2 user_id uuid, $3 kept session id uuid or NULL. Returns the ended
-- sessions (their events' payloads).
update app.sessions
set revoked_at = now()
where org_id = $1 and user_id = $2 and revoked_at is null
  and ($3::uuid is null or id <> $3::uuid)
returning id, user_agent, client_addr, created_at, last_used_at, expires_at
