-- The real tables refuse, as the superuser (to which RLS does not apply, so only the keys
-- protect), every write that would point across organizations: each reference listed by
-- foreign_keys.sql, exercised. (Not run on Citus: it disables triggers and moves a row to
-- another organization, neither of which Citus allows on distributed tables; see scripts/citus.)
begin;
select plan(7);

\ir fixtures/seed.psql

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
