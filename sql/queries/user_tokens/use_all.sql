-- Ends the user's other unused tokens of kind $3 (a password set by a reset voids the other
-- reset links).
-- $1 org_id uuid, $2 user_id uuid, $3 kind text. Returns the count.
update app.user_tokens
set used_at = now()
where org_id = $1 and user_id = $2 and kind = $3 and used_at is null
