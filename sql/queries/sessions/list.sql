-- The live sessions of one user, newest first (at most 100).
-- $1 org_id uuid, $2 user_id uuid.
select id, user_agent, client_addr, created_at, last_used_at, expires_at
from app.sessions
where org_id = $1 and user_id = $2 and revoked_at is null and expires_at > now()
order by created_at desc, id
limit 100
