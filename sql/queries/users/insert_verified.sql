-- Adds a user whose email is verified (accepting an invitation sent to it) to the
-- transaction's organization.
-- $1 org_id uuid, $2 id uuid, $3 email text (stored as its key, app.text_key: lower-cased
-- and NFC), $4 display_name text (stored in NFC), $5 password_hash text (argon2id PHC
-- string), $6 role text.
-- Returns the new user. Can trip uq_users_org_id_email (409 EMAIL_ALREADY_EXISTS),
-- fk_users_org_id and RLS WITH CHECK (org_id must be the context's organization).
insert into app.users (org_id, id, email, display_name, password_hash, role, email_verified_at)
values ($1, $2, app.text_key($3), normalize($4, NFC), $5, $6, now())
returning id, email, display_name, role, version, created_at, updated_at, deleted_at,
          email_verified_at
