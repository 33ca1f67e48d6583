-- What changing user $2's address to $3 would do: the address's key, whether it is another
-- address than the user's own, and whether another live user of the organization has it.
-- $1 org_id uuid, $2 id uuid, $3 email text. One row: key text, changes bool, taken bool.
select k.key,
       coalesce(k.key <> u.email, true) as changes,
       exists (select 1 from app.users o
               where o.org_id = $1 and o.email = k.key and o.deleted_at is null and o.id <> $2)
           as taken
from app.text_key($3::text) as k (key)
left join app.users u on u.org_id = $1 and u.id = $2 and u.deleted_at is null
