-- The schema's references between tenant tables keep every row inside its organization,
-- whatever role writes. The catalog lists each reference (a new one fails the second check
-- until it is listed here and exercised in foreign_key_writes.sql).
begin;
select plan(3);

\ir fixtures/seed.psql

select ok((select rolsuper from pg_roles where rolname = current_user),
    'premise: running as a superuser (RLS does not apply; only the keys protect)');

-- Every foreign key of schema app that references a tenant table other than the organizations
-- themselves, with its columns in order and the referenced columns in order.
select is(
    array(select format('%s: %s (%s) -> %s (%s)', c.conname, c.conrelid::regclass,
                        (select string_agg(a.attname, ', ' order by k.i)
                         from unnest(c.conkey) with ordinality k(n, i)
                         join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n),
                        c.confrelid::regclass,
                        (select string_agg(a.attname, ', ' order by k.i)
                         from unnest(c.confkey) with ordinality k(n, i)
                         join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n))
          from pg_constraint c
          where c.contype = 'f' and c.connamespace = 'app'::regnamespace
            and c.confrelid <> 'app.organizations'::regclass
          order by c.conname),
    array['fk_invitations_invited_by: app.invitations (org_id, invited_by) -> app.users (org_id, id)',
          'fk_projects_owner: app.projects (org_id, owner_id) -> app.users (org_id, id)',
          'fk_sessions_user: app.sessions (org_id, user_id) -> app.users (org_id, id)',
          'fk_user_tokens_user: app.user_tokens (org_id, user_id) -> app.users (org_id, id)',
          'fk_webhook_deliveries_endpoint: app.webhook_deliveries (org_id, endpoint_id) -> app.webhook_endpoints (org_id, id)',
          'fk_webhook_deliveries_event: app.webhook_deliveries (org_id, event_id) -> app.events (org_id, id)'],
    'the references between tenant tables are exactly these, each keyed by (org_id, id)');

-- app.users has no key on id alone: no table can reference a user without its organization.
select throws_ok(
    $$create table app.pgtap_bad_ref (author_id uuid references app.users (id))$$,
    '42830', null, 'a foreign key to app.users (id) alone cannot be declared (no such key)');

select * from finish();
rollback;
