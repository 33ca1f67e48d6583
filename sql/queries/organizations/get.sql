-- The transaction's own organization. $1 id uuid. Zero or one row.
select id, slug, name, created_at, updated_at
from app.organizations
where id = $1
