-- One invitation of the transaction's organization (any state).
-- $1 org_id uuid, $2 id uuid. Zero or one row.
select id, email, role, invited_by, expires_at, accepted_at, revoked_at, created_at
from app.invitations
where org_id = $1 and id = $2
