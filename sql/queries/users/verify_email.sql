-- Marks a live user's address verified, and makes it their address (an email change takes
-- effect only now). In the user's own context (a redeemed verification token).
-- $1 org_id uuid, $2 id uuid, $3 email text (the verified address, a key). Zero or one row:
-- the user. Can trip uq_users_org_id_email (409: another user took the address meanwhile).
update app.users
set email = $3, email_verified_at = now()
where org_id = $1 and id = $2 and deleted_at is null
returning id, email, display_name, role, version, created_at, updated_at, deleted_at,
          email_verified_at
