-- One API key of the transaction's organization that is not revoked (never its hash). Owners
-- and admins see every key, a key itself (RLS); members none.
-- $1 org_id uuid, $2 id uuid. Zero or one row.
select id, name, role, expires_at, last_used_at, created_at, created_by, created_by_type
from app.api_keys
where org_id = $1 and id = $2 and revoked_at is null
