-- One user of the transaction's organization, deleted or not (restore).
-- $1 org_id uuid, $2 id uuid. Zero or one row.
select id, email, display_name, role, version, created_at, updated_at, deleted_at,
       email_verified_at
from app.users
where org_id = $1 and id = $2
