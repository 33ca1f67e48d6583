-- One live user of the transaction's organization, before a change of its credentials, and
-- whether the email given changes it: the database compares keys (app.text_key), so another
-- spelling of the same address is no change.
-- $1 org_id uuid, $2 id uuid, $3 email text (null when the change sets none). Returns zero or
-- one row.
select id, email, display_name, role, version, created_at, updated_at, deleted_at, email_verified_at,
       coalesce(app.text_key($3::text) <> email, false) as email_changes
from app.users
where org_id = $1 and id = $2 and deleted_at is null
