-- Claims an idempotency key for a create, for 24 hours. Waits for a concurrent claim of the
-- same key to end. $1 org_id uuid, $2 key text, $3 operation text, $4 request_hash bytea.
-- One row when this request claimed the key, none when it was already claimed.
insert into app.idempotency_keys (org_id, key, operation, request_hash, expires_at)
values ($1, $2, $3, $4, now() + interval '24 hours')
on conflict (org_id, key) do nothing
returning key
