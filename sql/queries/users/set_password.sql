-- Sets a live user's password hash (a password reset, in the user's own context).
-- $1 org_id uuid, $2 id uuid, $3 password_hash text. Zero or one row: email, display_name.
update app.users
set password_hash = $3
where org_id = $1 and id = $2 and deleted_at is null
returning email, display_name
