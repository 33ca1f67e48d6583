-- Soft-deletes one live user: the row stays (audit, restore), the email becomes free.
-- $1 org_id uuid, $2 id uuid, $3 expected version int8 or NULL (compare-and-set for
-- If-Match). Returns the removed user (its event's payload), or no row. Can trip the
-- last-owner trigger (409).
update app.users
set deleted_at = now()
where org_id = $1 and id = $2 and deleted_at is null
  and ($3::int8 is null or version = $3::int8)
returning id, email, display_name, role, version, created_at, updated_at, deleted_at,
          email_verified_at
