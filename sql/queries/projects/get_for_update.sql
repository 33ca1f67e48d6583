-- One live project, locked until the transaction ends (compare-and-set on version).
-- $1 org_id uuid, $2 id uuid. Zero or one row.
select id, name, description, owner_id, status, version, created_at, updated_at, created_by, created_by_type, updated_by, updated_by_type, deleted_at
from app.projects
where org_id = $1 and id = $2 and deleted_at is null
for update
