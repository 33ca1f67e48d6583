-- A page of projects ordered by name_key desc, id desc, keyset-paginated, with optional filters.
-- $1 org_id uuid, $2 status text or NULL, $3 owner_id uuid or NULL, $4 name prefix text or
-- NULL (matches names whose key starts with the prefix's key), $5 include_deleted bool,
-- $6 id after which the page starts or NULL, $7 that row's name_key as this query returned it
-- or NULL, $8 row limit int8 (page size + 1). Rows carry name_key: the next cursor's key.
select id, name, description, owner_id, status, version, created_at, updated_at, created_by, created_by_type, updated_by, updated_by_type, deleted_at, name_key
from app.projects
where org_id = $1
  and ($2::text is null or status = $2::text)
  and ($3::uuid is null or owner_id = $3::uuid)
  and ($4::text is null or starts_with(name_key, app.text_key($4::text)))
  and ($5::bool or deleted_at is null)
  and ($6::uuid is null or (name_key, id) < ($7::text, $6::uuid))
order by name_key desc, id desc
limit $8
