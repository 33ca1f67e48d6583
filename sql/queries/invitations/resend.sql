-- Gives a pending invitation a new token and a new expiry (the earlier link stops working).
-- $1 org_id uuid, $2 id uuid, $3 token_hash bytea, $4 lifetime float8 seconds. Zero rows when
-- it is not pending (or not visible to the caller's role), else the invitation.
update app.invitations
set token_hash = $3, expires_at = now() + make_interval(secs => $4)
where org_id = $1 and id = $2 and accepted_at is null and revoked_at is null
returning id, email, role, invited_by, expires_at, accepted_at, revoked_at, created_at
