-- The runtime role tenantry_app: it cannot bypass RLS, log in, become another role, change the
-- policies or create objects, and it owns nothing.
--
-- Role membership for SET ROLE is checked against the *session* user. A superuser session that
-- did `set role tenantry_app` could still `set role postgres`, so the escape attempts below run
-- under `set local session authorization tenantry_app` instead, which makes tenantry_app the
-- session user too (as close as one gets to the production login role, a NOINHERIT member of
-- tenantry_app only, without creating a cluster-wide role).
begin;
select plan(23);

------------------------------------------------------------------------------------------------
-- Attributes and memberships (pg_roles and pg_auth_members are cluster-wide: read only).
------------------------------------------------------------------------------------------------
select has_role('tenantry_app', 'tenantry_app exists');
select is((select rolsuper from pg_roles where rolname = 'tenantry_app'), false, 'tenantry_app is not a superuser');
select is((select rolbypassrls from pg_roles where rolname = 'tenantry_app'), false, 'tenantry_app cannot bypass RLS');
select is((select rolcanlogin from pg_roles where rolname = 'tenantry_app'), false, 'tenantry_app cannot log in');
select results_eq(
    $$select rolinherit, rolcreaterole, rolcreatedb, rolreplication from pg_roles where rolname = 'tenantry_app'$$,
    $$values (false, false, false, false)$$,
    'tenantry_app is NOINHERIT NOCREATEROLE NOCREATEDB NOREPLICATION');
select is(
    array(select m.roleid::regrole::text from pg_auth_members m
          where m.member = 'tenantry_app'::regrole order by 1),
    '{}'::text[],
    'tenantry_app is a member of no role');

------------------------------------------------------------------------------------------------
-- Ownership in this database.
------------------------------------------------------------------------------------------------
select is(
    array(select c.oid::regclass::text from pg_class c where c.relowner = 'tenantry_app'::regrole order by 1),
    '{}'::text[],
    'tenantry_app owns no relation');
select is(
    array(select kind || ' ' || name from (
              select 'function' as kind, p.oid::regprocedure::text as name from pg_proc p
               where p.proowner = 'tenantry_app'::regrole
              union all
              select 'schema', n.nspname::text from pg_namespace n where n.nspowner = 'tenantry_app'::regrole
              union all
              select 'type', t.oid::regtype::text from pg_type t where t.typowner = 'tenantry_app'::regrole
          ) owned order by 1),
    '{}'::text[],
    'tenantry_app owns no function, schema or type');

------------------------------------------------------------------------------------------------
-- As tenantry_app (session user and current user).
------------------------------------------------------------------------------------------------
set local session authorization tenantry_app;
set local app.org_id = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';

select is(session_user || ' / ' || current_user, 'tenantry_app / tenantry_app',
    'premise: acting as tenantry_app (session user / current user)');

-- Becoming another role.
select throws_ok('set role postgres', '42501', null, 'tenantry_app cannot SET ROLE postgres');
select throws_ok('set role tenantry_auth', '42501', null, 'tenantry_app cannot SET ROLE tenantry_auth');
select throws_ok('set local role pg_read_all_data', '42501', null,
    'tenantry_app cannot SET ROLE pg_read_all_data');
select is(current_user::text, 'tenantry_app', 'still tenantry_app after the refused SET ROLEs');

-- Turning RLS off or rewriting the policies (owner-only).
select throws_ok('alter table app.users disable row level security', '42501', 'must be owner of table users',
    'tenantry_app cannot disable row level security on app.users (must be owner)');
select throws_ok('alter table app.organizations no force row level security', '42501',
    'must be owner of table organizations',
    'tenantry_app cannot stop forcing row level security on app.organizations');
select throws_ok('drop policy users_select on app.users', '42501', null,
    'tenantry_app cannot drop a policy');
select throws_ok('create policy pgtap_everything on app.users for select to tenantry_app using (true)',
    '42501', null, 'tenantry_app cannot add a policy');
select throws_ok('truncate app.users', '42501', null,
    'tenantry_app cannot TRUNCATE a tenant table (TRUNCATE ignores RLS)');

-- Creating objects.
select throws_ok('create table app.pgtap_x (id int)', '42501', null,
    'tenantry_app cannot create a table in schema app');
select throws_ok('create table public.pgtap_x (id int)', '42501', null,
    'tenantry_app cannot create a table in schema public');
select throws_ok('create schema pgtap_x', '42501', null, 'tenantry_app cannot create a schema');
select throws_ok($$create function app.pgtap_x() returns int language sql as 'select 1'$$, '42501', null,
    'tenantry_app cannot create a function in schema app');

reset session authorization;
select ok((select rolsuper from pg_roles where rolname = session_user), 'back to the superuser session');

select * from finish();
rollback;
