-- The transaction of GET /v1/projects/{id}, as the service sends it.
\set o random(1, :orgs)
\set u random(1, :tokens_per_org)
BEGIN;
SET LOCAL ROLE tenantry_app;
SELECT app.enter(('00000000-0000-7000-8000-' || lpad(to_hex(:o::int), 12, '0'))::uuid, ('00000000-0000-7000-8001-' || lpad(to_hex(:o::int * 1000 + :u::int), 12, '0'))::uuid, ('00000000-0000-7000-8002-' || lpad(to_hex(:o::int * 1000 + :u::int), 12, '0'))::uuid);
SELECT id, name, description, owner_id, status, version, created_at, updated_at, created_by, updated_by, deleted_at FROM app.projects WHERE org_id = ('00000000-0000-7000-8000-' || lpad(to_hex(:o::int), 12, '0'))::uuid AND id = ('00000000-0000-7000-8003-' || lpad(to_hex(:o::int * 100000 + :u::int), 12, '0'))::uuid AND deleted_at IS NULL;
COMMIT;
