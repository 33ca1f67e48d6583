-- A password reset or email verification token of the transaction's own user (V32).
-- $1 org_id uuid, $2 id uuid, $3 user_id uuid, $4 kind text, $5 email text (its key) or NULL,
-- $6 token_hash bytea, $7 lifetime float8 seconds. No rows.
insert into app.user_tokens (org_id, id, user_id, kind, email, token_hash, expires_at)
values ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))
