-- One webhook endpoint, locked until the transaction ends (compare-and-set on version).
-- $1 org_id uuid, $2 id uuid. Zero or one row.
select id, url, event_types, description, disabled_reason, disabled_at, previous_secret_expires_at, consecutive_failures, version, created_at, updated_at, created_by, created_by_type, updated_by, updated_by_type
from app.webhook_endpoints
where org_id = $1 and id = $2
for update
