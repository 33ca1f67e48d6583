-- Soft-deletes one live project; its name becomes free. $1 org_id uuid, $2 id uuid.
-- Zero or one row affected.
update app.projects
set deleted_at = now()
where org_id = $1 and id = $2 and deleted_at is null
