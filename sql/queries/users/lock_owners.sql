-- Locks the organization's owners, so that concurrent demotions or deletions of owners
-- serialise and the last owner cannot be removed by two requests at once.
-- $1 org_id uuid. Returns the owners' ids.
select id
from app.users
where org_id = $1 and role = 'owner'
order by id
for update
