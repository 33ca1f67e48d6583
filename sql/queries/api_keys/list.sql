-- A page of the organization's keys that are not revoked (expired ones included), oldest
-- first (ids are UUIDv7), never their hashes.
-- $1 org_id uuid, $2 the last id of the previous page uuid or NULL, $3 limit int8.
select id, name, role, expires_at, last_used_at, created_at, created_by, created_by_type
from app.api_keys
where org_id = $1 and revoked_at is null and ($2::uuid is null or id > $2::uuid)
order by id
limit $3
