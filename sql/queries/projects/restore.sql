-- Restores one soft-deleted project. $1 org_id uuid, $2 id uuid. Returns it, or no row.
-- Can trip uq_projects_org_id_name (409) when a live project took the name meanwhile.
update app.projects
set deleted_at = null
where org_id = $1 and id = $2 and deleted_at is not null
returning id, name, description, owner_id, status, version, created_at, updated_at, created_by, created_by_type, updated_by, updated_by_type, deleted_at
