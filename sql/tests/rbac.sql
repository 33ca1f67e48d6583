-- Roles inside one organization, enforced by RLS and triggers (migration V6), exercised as
-- the runtime role with hand-written SQL: what the service refuses with 403, the database
-- refuses too. Organization A: A1 owner, A2 member (seed), plus A3 admin and A4 owner added
-- here. `app.role` is what app.authorize_session would set from the users table.
begin;
select plan(22);
\ir fixtures/seed.psql

insert into app.users (org_id, id, email, display_name, password_hash, role) values
    ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-0000-4000-8000-000000000003',
     'admin@a.example', 'Ada A', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', 'admin');

set local role tenantry_app;
select set_config('app.org_id', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', true);

-- As the member A2.
select set_config('app.user_id', 'aaaaaaaa-0000-4000-8000-000000000002', true);
select set_config('app.role', 'member', true);
select results_eq(
    $$with x as (update app.users set display_name = 'Pwned' where id <> app.current_user_id() returning 1)
      select count(*) from x$$,
    array[0::bigint], 'member: updating other users touches 0 rows');
select results_eq(
    $$with x as (update app.users set display_name = 'Alice Again' where id = app.current_user_id() returning 1)
      select count(*) from x$$,
    array[1::bigint], 'member: updating oneself works');
select throws_ok($$update app.users set role = 'owner' where id = app.current_user_id()$$,
    '42501', null, 'member: changing one''s own role is refused');
select throws_ok(
    $$insert into app.users (id, email, display_name, password_hash, role)
      values (gen_random_uuid(), 'x@a.example', 'X', '$argon2id$x', 'member')$$,
    '42501', null, 'member: adding a user is refused');
select results_eq(
    $$with x as (delete from app.users returning 1) select count(*) from x$$,
    array[0::bigint], 'member: deleting users touches 0 rows');
select results_eq(
    $$with x as (update app.organizations set name = 'Renamed' returning 1) select count(*) from x$$,
    array[0::bigint], 'member: renaming the organization touches 0 rows');

-- As the admin A3.
select set_config('app.user_id', 'aaaaaaaa-0000-4000-8000-000000000003', true);
select set_config('app.role', 'admin', true);
select results_eq(
    $$with x as (update app.users set display_name = 'Alice by Ada'
                 where id = 'aaaaaaaa-0000-4000-8000-000000000002' returning 1) select count(*) from x$$,
    array[1::bigint], 'admin: editing a member works');
select results_eq(
    $$with x as (update app.users set display_name = 'Pwned'
                 where id = 'aaaaaaaa-0000-4000-8000-000000000001' returning 1) select count(*) from x$$,
    array[0::bigint], 'admin: editing an owner touches 0 rows');
select throws_ok(
    $$update app.users set role = 'owner' where id = 'aaaaaaaa-0000-4000-8000-000000000002'$$,
    '42501', null, 'admin: promoting a member to owner is refused');
select throws_ok($$update app.users set role = 'member' where id = app.current_user_id()$$,
    '42501', null, 'admin: changing one''s own role is refused');
select throws_ok(
    $$insert into app.users (id, email, display_name, password_hash, role)
      values (gen_random_uuid(), 'o@a.example', 'O', '$argon2id$x', 'owner')$$,
    '42501', null, 'admin: adding an owner is refused');
select lives_ok(
    $$insert into app.users (id, email, display_name, password_hash, role)
      values ('aaaaaaaa-0000-4000-8000-000000000005', 'm@a.example', 'M', '$argon2id$x', 'member')$$,
    'admin: adding a member works');
select results_eq(
    $$with x as (delete from app.users where role = 'owner' returning 1) select count(*) from x$$,
    array[0::bigint], 'admin: deleting owners touches 0 rows');
select results_eq(
    $$with x as (delete from app.users where id = 'aaaaaaaa-0000-4000-8000-000000000005' returning 1)
      select count(*) from x$$,
    array[1::bigint], 'admin: deleting a member works');

-- As the owner A1.
select set_config('app.user_id', 'aaaaaaaa-0000-4000-8000-000000000001', true);
select set_config('app.role', 'owner', true);
select throws_ok($$update app.users set role = 'member' where id = app.current_user_id()$$,
    '42501', null, 'owner: changing one''s own role is refused');
select lives_ok(
    $$update app.users set role = 'owner' where id = 'aaaaaaaa-0000-4000-8000-000000000003'$$,
    'owner: promoting the admin to owner works');
select lives_ok(
    $$update app.users set role = 'member' where id = 'aaaaaaaa-0000-4000-8000-000000000003'$$,
    'owner: demoting another owner works while an owner remains');
select throws_ok(
    $$delete from app.users where id = 'aaaaaaaa-0000-4000-8000-000000000001'$$,
    '23514', 'an organization must keep at least one owner',
    'owner: removing the last owner is refused, even by an owner');
select results_eq(
    $$with x as (update app.organizations set name = 'Renamed A' returning 1) select count(*) from x$$,
    array[1::bigint], 'owner: renaming the organization works');

-- Nothing of organization B was reachable meanwhile.
reset role;
select is((select count(*) from app.users where org_id = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb'
           and display_name in ('Ben B', 'Bob B')), 2::bigint, 'superuser: B''s users are untouched');
select is((select role from app.users where id = 'aaaaaaaa-0000-4000-8000-000000000001'), 'owner',
    'superuser: A''s last owner is still an owner');
select is((select display_name from app.users where id = 'aaaaaaaa-0000-4000-8000-000000000002'),
    'Alice by Ada', 'superuser: the member''s row carries only the permitted edits');

select * from finish();
rollback;
