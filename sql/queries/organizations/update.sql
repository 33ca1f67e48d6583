-- Renames the transaction's own organization (owners only: the update policy).
-- $1 id uuid, $2 name text (stored in NFC). Returns the organization, or no row when the
-- caller may not change it. Can trip ck_organizations_name* (422).
update app.organizations
set name = normalize($2, NFC)
where id = $1
returning id, slug, name, created_at, updated_at
