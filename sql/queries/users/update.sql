-- Changes the given fields of one live user; NULL leaves a field as it is.
-- $1 org_id uuid, $2 id uuid, $3 email text (stored as app.text_key($3)), $4 display_name
-- text (stored in NFC), $5 role text, $6 password_hash text, $7 expected version int8 or NULL
-- (compare-and-set for If-Match).
-- Returns the updated user, or no row when there is no such user or its version moved on.
-- Can trip uq_users_org_id_email (409) and the last-owner trigger (409).
update app.users
set email = coalesce(app.text_key($3), email),
    display_name = coalesce(normalize($4, NFC), display_name),
    role = coalesce($5, role),
    password_hash = coalesce($6, password_hash)
where org_id = $1 and id = $2 and deleted_at is null
  and ($7::int8 is null or version = $7::int8)
returning id, email, display_name, role, version, created_at, updated_at, deleted_at,
          email_verified_at
