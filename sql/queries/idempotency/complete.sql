-- Records the response to replay for an idempotency key. $1 org_id uuid, $2 key text,
-- $3 response_status int4, $4 response_body jsonb.
update app.idempotency_keys
set response_status = $3, response_body = $4
where org_id = $1 and key = $2
