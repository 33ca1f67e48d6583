-- Reuses an expired idempotency key for a new request. $1 org_id uuid, $2 key text,
-- $3 operation text, $4 request_hash bytea.
update app.idempotency_keys
set operation = $3, request_hash = $4, response_status = null, response_body = null,
    expires_at = now() + interval '24 hours'
where org_id = $1 and key = $2 and expires_at < now()
