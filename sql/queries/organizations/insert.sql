-- Creates the organization named by the transaction's context (sign-up only).
-- $1 id uuid (must equal app.org_id, RLS WITH CHECK), $2 slug text, $3 name text (stored in
-- NFC).
-- Can trip uq_organizations_slug (409 ORG_SLUG_TAKEN).
insert into app.organizations (id, slug, name)
values ($1, $2, normalize($3, NFC))
returning id, slug, name, created_at, updated_at
