-- Ends one live session of one user. $1 org_id uuid, $2 user_id uuid, $3 id uuid.
-- Returns the ended session (its event's payload), or no row.
update app.sessions
set revoked_at = now()
where org_id = $1 and user_id = $2 and id = $3 and revoked_at is null
returning id, user_agent, client_addr, created_at, last_used_at, expires_at
