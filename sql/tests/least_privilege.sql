-- Least privilege for the two roles requests run as (migration V15): tenantry_app (tenant
-- transactions) and tenantry_anon (pre-authentication: log-in, refresh, readiness). Each may do
-- what its transactions need and nothing PUBLIC would otherwise give it: no temporary tables,
-- no large objects, no pg_notify, no session advisory locks, no objects in schema public, and
-- neither reaches the other's world.
--
-- Behaviour is exercised under `set local session authorization`, which makes the role the
-- session user too (as in runtime_role.sql).
begin;
select plan(35);
\ir fixtures/seed.psql

------------------------------------------------------------------------------------------------
-- tenantry_anon: attributes, memberships, ownership (cluster-wide: read only).
------------------------------------------------------------------------------------------------
select has_role('tenantry_anon', 'tenantry_anon exists');
select results_eq(
    $$select rolsuper, rolbypassrls, rolcanlogin, rolinherit, rolcreaterole, rolcreatedb, rolreplication
        from pg_roles where rolname = 'tenantry_anon'$$,
    $$values (false, false, false, false, false, false, false)$$,
    'tenantry_anon is NOSUPERUSER NOBYPASSRLS NOLOGIN NOINHERIT NOCREATEROLE NOCREATEDB NOREPLICATION');
select is(
    array(select m.roleid::regrole::text from pg_auth_members m
          where m.member = 'tenantry_anon'::regrole order by 1),
    '{}'::text[], 'tenantry_anon is a member of no role');
select is(
    array(select c.oid::regclass::text from pg_class c where c.relowner = 'tenantry_anon'::regrole
          union all
          select p.oid::regprocedure::text from pg_proc p where p.proowner = 'tenantry_anon'::regrole),
    '{}'::text[], 'tenantry_anon owns no relation or function');

------------------------------------------------------------------------------------------------
-- Who may call what: the pre-authentication functions are tenantry_anon's only.
------------------------------------------------------------------------------------------------
select is(
    array(select p.oid::regprocedure::text from pg_proc p
          where p.pronamespace = 'app'::regnamespace and p.prosecdef
            and has_function_privilege('tenantry_app', p.oid, 'EXECUTE') order by 1),
    '{}'::text[], 'tenantry_app executes no SECURITY DEFINER function of schema app');
select is(
    array(select p.oid::regprocedure::text from pg_proc p
          where p.pronamespace = 'app'::regnamespace
            and has_function_privilege('tenantry_anon', p.oid, 'EXECUTE') order by 1),
    array['app.claim_emails(uuid,integer,interval)',
          'app.finish_email(uuid,uuid,text,text,timestamp with time zone)',
          'app.login_lookup(text,text)',
          'app.mail_due_orgs(integer)',
          'app.rotate_refresh_token(uuid,uuid,bytea,bytea,interval)',
          'app.text_key(text)'],
    'tenantry_anon executes exactly the log-in and refresh functions, the email key and the '
    'mail worker''s functions');
select is(
    array(select c.oid::regclass::text from pg_class c
          where c.relnamespace in ('app'::regnamespace, 'public'::regnamespace)
            and c.relkind in ('r', 'p', 'v', 'm', 'S')
            and (has_table_privilege('tenantry_anon', c.oid,
                     'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
                 or has_any_column_privilege('tenantry_anon', c.oid, 'SELECT, INSERT, UPDATE, REFERENCES'))
            and not exists (select 1 from pg_depend d  -- pgTAP's own views, in this scratch database
                            where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
          order by 1),
    array['refinery_schema_history'],
    'tenantry_anon reads the migration history (readiness) and no other table');
select ok(not has_table_privilege('tenantry_app', 'refinery_schema_history', 'SELECT'),
    'tenantry_app no longer reads the migration history');

------------------------------------------------------------------------------------------------
-- What PUBLIC no longer gives, for both roles.
------------------------------------------------------------------------------------------------
select ok(not has_database_privilege('tenantry_app', current_database(), 'TEMP'),
    'tenantry_app cannot create temporary tables in this database');
select ok(not has_database_privilege('tenantry_anon', current_database(), 'TEMP'),
    'tenantry_anon cannot create temporary tables in this database');
select ok(not has_schema_privilege('tenantry_app', 'public', 'CREATE'),
    'tenantry_app cannot create objects in schema public');
select ok(not has_schema_privilege('tenantry_anon', 'public', 'CREATE'),
    'tenantry_anon cannot create objects in schema public');
select is(
    array(select p.oid::regprocedure::text from pg_proc p
          where p.pronamespace = 'pg_catalog'::regnamespace
            and (p.proname ~ '^lo_' or p.proname in ('loread', 'lowrite'))
            and (has_function_privilege('tenantry_app', p.oid, 'EXECUTE')
                 or has_function_privilege('tenantry_anon', p.oid, 'EXECUTE'))
          order by 1),
    '{}'::text[], 'neither role can use large objects');
select is(
    array(select p.oid::regprocedure::text from pg_proc p
          where p.pronamespace = 'pg_catalog'::regnamespace and p.proname ~ '^pg_(try_)?advisory_'
            and has_function_privilege('tenantry_app', p.oid, 'EXECUTE')
          order by 1),
    array['pg_advisory_xact_lock(bigint)', 'pg_advisory_xact_lock_shared(bigint)'],
    'tenantry_app keeps only the transaction-scoped advisory locks its triggers take');
select is(
    array(select p.oid::regprocedure::text from pg_proc p
          where p.pronamespace = 'pg_catalog'::regnamespace and p.proname ~ '^pg_(try_)?advisory_'
            and has_function_privilege('tenantry_anon', p.oid, 'EXECUTE')
          order by 1),
    '{}'::text[], 'tenantry_anon takes no advisory lock');
select ok(not has_function_privilege('tenantry_app', 'pg_notify(text, text)', 'EXECUTE')
          and not has_function_privilege('tenantry_anon', 'pg_notify(text, text)', 'EXECUTE'),
    'neither role can call pg_notify');
select ok(has_function_privilege('pg_database_owner', 'pg_advisory_lock(bigint)', 'EXECUTE'),
    'the database owner keeps the session advisory lock that serialises migrators');

------------------------------------------------------------------------------------------------
-- As tenantry_app (session user and current user), in organization A.
------------------------------------------------------------------------------------------------
set local session authorization tenantry_app;
set local app.org_id = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
select is(session_user || ' / ' || current_user, 'tenantry_app / tenantry_app',
    'premise: acting as tenantry_app');
select throws_ok($$select * from app.login_lookup('org-b', 'bob@b.example')$$, '42501', null,
    'tenantry_app cannot look up log-in hashes');
select throws_ok(
    $$select * from app.rotate_refresh_token('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', gen_random_uuid(),
                                             '\x00', '\x00', '10 seconds')$$,
    '42501', null, 'tenantry_app cannot rotate refresh tokens');
select throws_ok('create temporary table pgtap_x (id int)', '42501', null,
    'tenantry_app cannot create a temporary table');
select throws_ok('select lo_create(0)', '42501', null, 'tenantry_app cannot create a large object');
select throws_ok($$select lo_from_bytea(0, '\x00')$$, '42501', null,
    'tenantry_app cannot store a large object');
select throws_ok($$select pg_notify('tenants', 'hello')$$, '42501', null,
    'tenantry_app cannot notify through pg_notify');
select throws_ok('select pg_advisory_lock(1)', '42501', null,
    'tenantry_app cannot take a session advisory lock (it would outlive the request)');
select lives_ok('select pg_advisory_xact_lock(1)',
    'tenantry_app takes transaction-scoped advisory locks (its triggers do)');
select lives_ok('select count(*) from app.users', 'tenantry_app reads its tenant''s users');
reset session authorization;

------------------------------------------------------------------------------------------------
-- As tenantry_anon.
------------------------------------------------------------------------------------------------
set local session authorization tenantry_anon;
select is(session_user || ' / ' || current_user, 'tenantry_anon / tenantry_anon',
    'premise: acting as tenantry_anon');
select results_eq(
    $$select user_id from app.login_lookup('org-b', 'BOB@b.example')$$,
    $$values ('bbbbbbbb-0000-4000-8000-000000000002'::uuid)$$,
    'tenantry_anon looks a user up (by the email''s key)');
select throws_ok('select count(*) from app.users', '42501', null,
    'tenantry_anon cannot read a tenant table');
select throws_ok(
    $$select app.enter('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'aaaaaaaa-0000-4000-8000-000000000001',
                       gen_random_uuid())$$,
    '42501', null, 'tenantry_anon cannot open a tenant context');
select throws_ok('create temporary table pgtap_x (id int)', '42501', null,
    'tenantry_anon cannot create a temporary table');
select throws_ok('select lo_create(0)', '42501', null, 'tenantry_anon cannot create a large object');
select throws_ok('select pg_advisory_xact_lock(1)', '42501', null,
    'tenantry_anon takes no advisory lock');
select throws_ok('set role tenantry_app', '42501', null, 'tenantry_anon cannot become tenantry_app');
reset session authorization;

select * from finish();
rollback;
