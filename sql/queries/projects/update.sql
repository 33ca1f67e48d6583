-- Changes the given fields of one live project; NULL keeps a field. The version is bumped by
-- a trigger. $1 org_id uuid, $2 id uuid, $3 name text, $4 description text (both stored in
-- NFC), $5 owner_id uuid, $6 status text. Returns the project, or no row.
update app.projects
set name = coalesce(normalize($3, NFC), name),
    description = coalesce(normalize($4, NFC), description),
    owner_id = coalesce($5, owner_id),
    status = coalesce($6, status)
where org_id = $1 and id = $2 and deleted_at is null
returning id, name, description, owner_id, status, version, created_at, updated_at, created_by, created_by_type, updated_by, updated_by_type, deleted_at
