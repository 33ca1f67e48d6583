-- Changes the given fields of one live user; NULL leaves a field as it is.
-- $1 org_id uuid, $2 id uuid, $3 email text, $4 display_name text, $5 role text,
-- $6 password_hash text. Returns the updated user, or no row when there is no such user.
-- Can trip uq_users_org_id_email (409) and the last-owner trigger (409).
update app.users
set email = coalesce($3, email),
    display_name = coalesce($4, display_name),
    role = coalesce($5, role),
    password_hash = coalesce($6, password_hash)
where org_id = $1 and id = $2 and deleted_at is null
returning id, email, display_name, role, created_at, updated_at, deleted_at
