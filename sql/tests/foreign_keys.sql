-- The schema's references between tenant tables keep every row inside its organization,
-- whatever role writes. The catalog lists each reference (a new one fails the first check until
-- it is listed and exercised here); the real tables then refuse, as the superuser (to which RLS
-- does not apply, so only the keys protect), every write that would point across organizations.
begin;
select plan(10);

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
    array['fk_projects_owner: app.projects (org_id, owner_id) -> app.users (org_id, id)',
          'fk_sessions_user: app.sessions (org_id, user_id) -> app.users (org_id, id)'],
    'the references between tenant tables are exactly these, each keyed by (org_id, id)');

-- app.users has no key on id alone: no table can reference a user without its organization.
select throws_ok(
    $$create table app.pgtap_bad_ref (author_id uuid references app.users (id))$$,
    '42830', null, 'a foreign key to app.users (id) alone cannot be declared (no such key)');

-- The live-owner triggers (V14) refuse an owner they cannot find before the keys are checked;
-- they are disabled inside this transaction (rolled back with it) so that the keys themselves
-- are tested.
alter table app.projects disable trigger require_live_owner;
alter table app.projects disable trigger require_live_owner_on_change;

-- A project of A owned by A's user: fine.
select lives_ok(
    $$insert into app.projects (org_id, id, name, owner_id)
      values ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-1111-4000-8000-000000000001',
              'Apollo', 'aaaaaaaa-0000-4000-8000-000000000001')$$,
    'a project of A owned by a user of A is accepted');

select throws_ok(
    $$insert into app.projects (org_id, id, name, owner_id)
      values ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-1111-4000-8000-000000000002',
              'Gemini', 'bbbbbbbb-0000-4000-8000-000000000001')$$,
    '23503',
    'insert or update on table "projects" violates foreign key constraint "fk_projects_owner"',
    'a project of A owned by a user of B is refused by fk_projects_owner');
select throws_ok(
    $$update app.projects set owner_id = 'bbbbbbbb-0000-4000-8000-000000000002'
      where id = 'aaaaaaaa-1111-4000-8000-000000000001'$$,
    '23503',
    'insert or update on table "projects" violates foreign key constraint "fk_projects_owner"',
    'handing A''s project to a user of B is refused by fk_projects_owner');
select throws_ok(
    $$update app.projects set org_id = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb'
      where id = 'aaaaaaaa-1111-4000-8000-000000000001'$$,
    '23503',
    'insert or update on table "projects" violates foreign key constraint "fk_projects_owner"',
    'moving A''s project into B while keeping A''s owner is refused by fk_projects_owner');

select throws_ok(
    $$insert into app.sessions (org_id, id, user_id, current_hashes, expires_at)
      values ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-2222-4000-8000-000000000001',
              'bbbbbbbb-0000-4000-8000-000000000001', array['\x01'::bytea], now() + interval '1 day')$$,
    '23503',
    'insert or update on table "sessions" violates foreign key constraint "fk_sessions_user"',
    'a session of A for a user of B is refused by fk_sessions_user');

select results_eq(
    $$select org_id, id, owner_id from app.projects$$,
    $$values ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa'::uuid, 'aaaaaaaa-1111-4000-8000-000000000001'::uuid,
              'aaaaaaaa-0000-4000-8000-000000000001'::uuid)$$,
    'only the same-organization project was stored, unchanged');
select is((select count(*) from app.sessions), 0::bigint, 'no session was stored');

select * from finish();
rollback;
