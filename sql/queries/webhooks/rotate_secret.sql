-- Replaces an endpoint's signing secret; the replaced one keeps signing until $4 (the
-- trigger app.rotate_webhook_secret moves it to previous_secret), or stops at once when $4
-- is not in the future. $1 org_id uuid, $2 id uuid, $3 secret bytea (32 bytes),
-- $4 previous_secret_expires_at timestamptz. Returns the endpoint, or no row.
update app.webhook_endpoints
set secret = $3,
    previous_secret_expires_at = $4
where org_id = $1 and id = $2
returning id, url, event_types, description, disabled_reason, disabled_at, previous_secret_expires_at, consecutive_failures, version, created_at, updated_at, created_by, created_by_type, updated_by, updated_by_type
