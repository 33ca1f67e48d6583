-- Opens a session (a refresh-token family) for the transaction's user.
-- $1 org_id uuid, $2 id uuid, $3 user_id uuid, $4 refresh-token hash bytea,
-- $5 user_agent text or NULL, $6 client_addr text or NULL, $7 lifetime in seconds float8.
-- Returns the session's absolute expiry.
insert into app.sessions (org_id, id, user_id, current_hashes, user_agent, client_addr, expires_at)
values ($1, $2, $3, array[$4::bytea], $5, $6, now() + make_interval(secs => $7))
returning expires_at
