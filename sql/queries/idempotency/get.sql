-- An existing idempotency key. $1 org_id uuid, $2 key text. Zero or one row:
-- operation, request_hash, response_status, response_body, expired.
select operation, request_hash, response_status, response_body, expires_at < now() as expired
from app.idempotency_keys
where org_id = $1 and key = $2
for update
