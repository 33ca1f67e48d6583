-- Soft-deletes one live project; its name becomes free. $1 org_id uuid, $2 id uuid.
-- Returns the removed project (its event's payload), or no row.
update app.projects
set deleted_at = now()
where org_id = $1 and id = $2 and deleted_at is null
returning id, name, description, owner_id, status, version, created_at, updated_at, created_by, created_by_type, updated_by, updated_by_type, deleted_at
