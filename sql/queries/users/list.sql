-- A page of the organization's users in id (creation) order, keyset-paginated.
-- $1 org_id uuid, $2 after_id uuid or NULL for the first page, $3 row limit int8
-- (the service asks for one more than the page size to know whether a next page exists),
-- $4 include_deleted bool.
select id, email, display_name, role, version, created_at, updated_at, deleted_at,
       email_verified_at
from app.users
where org_id = $1
  and ($2::uuid is null or id > $2::uuid)
  and ($4::bool or deleted_at is null)
order by id
limit $3
