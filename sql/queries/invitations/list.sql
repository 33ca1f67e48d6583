-- Pending invitations (neither accepted nor revoked; expired ones included) of the
-- transaction's organization, by id, after $2.
-- $1 org_id uuid, $2 after id uuid or NULL, $3 limit int8. Rows: the invitations.
select id, email, role, invited_by, expires_at, accepted_at, revoked_at, created_at
from app.invitations
where org_id = $1 and accepted_at is null and revoked_at is null
  and ($2::uuid is null or id > $2::uuid)
order by id
limit $3
