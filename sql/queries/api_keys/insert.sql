-- Creates an API key in the transaction's organization (a person's act: RLS and
-- app.guard_api_key_change refuse keys and members; admins create member keys only).
-- $1 org_id uuid, $2 id uuid, $3 name text (stored in NFC), $4 role text, $5 secret_hash bytea
-- (SHA-256 of the secret), $6 expires_at timestamptz or NULL. Returns the key (never the hash).
-- Can trip ck_api_keys_name, ck_api_keys_name_text, ck_api_keys_role, ck_api_keys_expires_at
-- (422) and RLS WITH CHECK.
insert into app.api_keys (org_id, id, name, role, secret_hash, expires_at)
values ($1, $2, normalize($3, NFC), $4, $5, $6)
returning id, name, role, expires_at, last_used_at, created_at, created_by, created_by_type
