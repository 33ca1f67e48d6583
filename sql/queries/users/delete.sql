-- Removes one user. $1 org_id uuid, $2 id uuid. Affects zero or one row.
delete from app.users
where org_id = $1 and id = $2
