-- A page of the organization's webhook endpoints, oldest first (ids are UUIDv7).
-- $1 org_id uuid, $2 the last id of the previous page uuid or NULL, $3 limit int8.
select id, url, event_types, description, disabled_reason, disabled_at, previous_secret_expires_at, consecutive_failures, version, created_at, updated_at, created_by, created_by_type, updated_by, updated_by_type
from app.webhook_endpoints
where org_id = $1 and ($2::uuid is null or id > $2::uuid)
order by id
limit $3
