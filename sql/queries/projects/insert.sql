-- Creates a project in the transaction's organization.
-- $1 org_id uuid, $2 id uuid, $3 name text, $4 description text (both stored in NFC),
-- $5 owner_id uuid, $6 status text. Returns the project. Can trip uq_projects_org_id_name
-- (409 PROJECT_NAME_TAKEN), fk_projects_owner (422), the ck_projects_* checks (422) and RLS
-- WITH CHECK (a member creating a project for someone else).
insert into app.projects (org_id, id, name, description, owner_id, status)
values ($1, $2, normalize($3, NFC), normalize($4, NFC), $5, $6)
returning id, name, description, owner_id, status, version, created_at, updated_at, created_by, created_by_type, updated_by, updated_by_type, deleted_at
