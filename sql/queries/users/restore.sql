-- Restores one soft-deleted user. $1 org_id uuid, $2 id uuid. Returns the user, or no row
-- when there is no such deleted user. Can trip uq_users_org_id_email (409) when a live user
-- took the email meanwhile.
update app.users
set deleted_at = null
where org_id = $1 and id = $2 and deleted_at is not null
returning id, email, display_name, role, version, created_at, updated_at, deleted_at,
          email_verified_at
