-- Revokes one key: the next request with it fails (app.enter_key). $1 org_id uuid, $2 id uuid.
-- Affects zero or one row (zero when missing or already revoked).
update app.api_keys
set revoked_at = now()
where org_id = $1 and id = $2 and revoked_at is null
