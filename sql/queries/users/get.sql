-- One live user of the transaction's organization.
-- $1 org_id uuid, $2 id uuid. Returns zero or one row (zero also for another organization's
-- id, and for a deleted user).
select id, email, display_name, role, version, created_at, updated_at, deleted_at,
       email_verified_at
from app.users
where org_id = $1 and id = $2 and deleted_at is null
