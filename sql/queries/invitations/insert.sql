-- Invites an address to the transaction's organization (V31), by the calling user.
-- $1 org_id uuid, $2 id uuid, $3 email text (stored as its key), $4 role text, $5 token_hash
-- bytea, $6 lifetime float8 seconds, $7 invited_by uuid. Returns the invitation. Can trip
-- uq_invitations_org_id_email (409 INVITATION_PENDING), ck_invitations_* and RLS WITH CHECK
-- (the caller's role may not invite that role).
insert into app.invitations (org_id, id, email, role, token_hash, expires_at, invited_by)
values ($1, $2, app.text_key($3), $4, $5, now() + make_interval(secs => $6), $7)
returning id, email, role, invited_by, expires_at, accepted_at, revoked_at, created_at
