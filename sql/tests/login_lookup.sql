-- app.login_lookup(slug, email): the one pre-authentication path that reads across tenants.
-- It must stay narrow: SECURITY DEFINER with a fixed search_path, owned by the NOBYPASSRLS role
-- tenantry_auth, executable by the pre-authentication role tenantry_anon only (never by
-- tenantry_app, the role of tenant transactions), returning exactly one organization's user.
-- Also: every SECURITY DEFINER function of schema app (future ones included) is pinned down.
begin;
select plan(29);

\ir fixtures/seed.psql

------------------------------------------------------------------------------------------------
-- The function's definition.
------------------------------------------------------------------------------------------------
select has_function('app', 'login_lookup', array['text', 'text'], 'app.login_lookup(text, text) exists');
select is((select prosecdef from pg_proc where oid = 'app.login_lookup(text, text)'::regprocedure), true,
    'login_lookup is SECURITY DEFINER');
select is((select proconfig from pg_proc where oid = 'app.login_lookup(text, text)'::regprocedure),
    '{"search_path=pg_catalog, pg_temp"}'::text[],
    'login_lookup sets exactly search_path = pg_catalog, pg_temp');
select is((select proowner::regrole::text from pg_proc where oid = 'app.login_lookup(text, text)'::regprocedure),
    'tenantry_auth', 'login_lookup is owned by tenantry_auth');
select is(has_function_privilege('public', 'app.login_lookup(text, text)', 'EXECUTE'), false,
    'PUBLIC cannot execute login_lookup');
select is(has_function_privilege('tenantry_app', 'app.login_lookup(text, text)', 'EXECUTE'), false,
    'tenantry_app (tenant transactions) cannot execute login_lookup');
select is(
    array(select distinct a.grantee::regrole::text
          from pg_proc p, aclexplode(p.proacl) a
          where p.oid = 'app.login_lookup(text, text)'::regprocedure and a.privilege_type = 'EXECUTE'
          order by 1),
    array['tenantry_anon', 'tenantry_auth'],
    'EXECUTE on login_lookup is held by tenantry_anon and its owner only');
select is(
    (select array_agg(a.name || ' ' || format_type(a.type, null) order by a.ord)
     from pg_proc p,
          unnest(p.proargnames, p.proallargtypes, p.proargmodes::text[]) with ordinality as a(name, type, mode, ord)
     where p.oid = 'app.login_lookup(text, text)'::regprocedure and a.mode = 't'),
    array['org_id uuid', 'user_id uuid', 'password_hash text', 'role text'],
    'login_lookup returns exactly (org_id uuid, user_id uuid, password_hash text, role text)');
select is((select proretset from pg_proc where oid = 'app.login_lookup(text, text)'::regprocedure), true,
    'login_lookup returns a set (zero rows when nothing matches)');

------------------------------------------------------------------------------------------------
-- Its owner, whose rights it runs with.
------------------------------------------------------------------------------------------------
select results_eq(
    $$select rolsuper, rolbypassrls, rolcanlogin from pg_roles where rolname = 'tenantry_auth'$$,
    $$values (false, false, false)$$,
    'tenantry_auth is NOSUPERUSER NOBYPASSRLS NOLOGIN');
-- Its SELECT policies are `using (true)`: whoever can become tenantry_auth reads every tenant's
-- users and hashes. (V3 grants it to a non-superuser migration owner and never revokes it.)
select is(
    array(select m.member::regrole::text || ' in ' || m.roleid::regrole::text from pg_auth_members m
          where 'tenantry_auth'::regrole in (m.roleid, m.member) order by 1),
    '{}'::text[],
    'no role is a member of tenantry_auth, and it is a member of no role');
select is(
    array(select c.oid::regclass::text from pg_class c
          where c.relnamespace = 'app'::regnamespace and c.relkind in ('r', 'p')
            and (has_table_privilege('tenantry_auth', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
                 or has_any_column_privilege('tenantry_auth', c.oid, 'INSERT, UPDATE, REFERENCES'))
            and c.oid <> 'app.sessions'::regclass
          order by 1),
    '{}'::text[],
    'tenantry_auth writes to no app table but sessions (refresh-token rotation)');
select is(
    array(select a.attname::text
          from pg_attribute a
          where a.attrelid = 'app.sessions'::regclass and a.attnum > 0 and not a.attisdropped
            and has_column_privilege('tenantry_auth', a.attrelid, a.attnum, 'UPDATE')
          order by 1),
    array['current_hashes', 'last_retired', 'last_used_at', 'retired_hashes', 'revoked_at',
          'rotated_at', 'updated_at'],
    'on sessions, tenantry_auth may update only the rotation columns (never keys or owners)');
select ok(
    not has_table_privilege('tenantry_auth', 'app.sessions', 'INSERT, DELETE, TRUNCATE'),
    'tenantry_auth can neither create nor delete sessions');
select is(
    array(select c.oid::regclass::text || '.' || a.attname
          from pg_class c join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
          where c.relnamespace = 'app'::regnamespace and c.relkind in ('r', 'p')
            and has_column_privilege('tenantry_auth', c.oid, a.attnum, 'SELECT')
          order by 1),
    array['app.organizations.id', 'app.organizations.slug',
          'app.sessions.current_hashes', 'app.sessions.expires_at', 'app.sessions.id',
          'app.sessions.last_retired', 'app.sessions.org_id', 'app.sessions.retired_hashes',
          'app.sessions.revoked_at', 'app.sessions.rotated_at', 'app.sessions.user_id',
          'app.users.deleted_at', 'app.users.email', 'app.users.id', 'app.users.org_id',
          'app.users.password_hash', 'app.users.role'],
    'tenantry_auth can read only the columns login_lookup and rotate_refresh_token need');
select is(
    array(select c.oid::regclass::text from pg_class c where c.relowner = 'tenantry_auth'::regrole order by 1),
    '{}'::text[],
    'tenantry_auth owns no relation');

------------------------------------------------------------------------------------------------
-- Behaviour, called as tenantry_anon before any tenant is known (log-in).
------------------------------------------------------------------------------------------------
set local role tenantry_anon;

select is(current_user::text, 'tenantry_anon', 'premise: acting as tenantry_anon');
select throws_ok('select id from app.users', '42501', null,
    'premise: tenantry_anon cannot read users directly');
select results_eq(
    $$select org_id, user_id, password_hash, role from app.login_lookup('org-a', 'shared@example.com')$$,
    $$values ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa'::uuid, 'aaaaaaaa-0000-4000-8000-000000000001'::uuid,
              '$argon2id$v=19$m=19456,t=2,p=1$c2FsdC1hMQ$aGFzaC1hMQ'::text, 'owner'::text)$$,
    'org-a + shared email returns exactly A''s user (not B''s user with the same email)');
select results_eq(
    $$select org_id, user_id, password_hash, role from app.login_lookup('org-b', 'shared@example.com')$$,
    $$values ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb'::uuid, 'bbbbbbbb-0000-4000-8000-000000000001'::uuid,
              '$argon2id$v=19$m=19456,t=2,p=1$c2FsdC1iMQ$aGFzaC1iMQ'::text, 'admin'::text)$$,
    'org-b + shared email returns exactly B''s user');
select is_empty($$select * from app.login_lookup('org-a', 'bob@b.example')$$,
    'org-a + an email that exists only in B returns no row');
select is_empty($$select * from app.login_lookup('org-zzz', 'shared@example.com')$$,
    'an unknown slug returns no row');
select is_empty($$select * from app.login_lookup('', 'shared@example.com')$$,
    'an empty slug returns no row');
select is_empty($$select * from app.login_lookup($s$org-a' or ''='$s$, 'bob@b.example')$$,
    'a slug crafted as SQL is just an unknown slug');
select is_empty($$select * from app.login_lookup('org-a', null)$$, 'a NULL email returns no row');
reset role;

------------------------------------------------------------------------------------------------
-- Every SECURITY DEFINER function of schema app (catalog query: future ones are covered).
------------------------------------------------------------------------------------------------
select ok((select count(*) from pg_proc where pronamespace = 'app'::regnamespace and prosecdef) >= 1,
    'premise: SECURITY DEFINER functions of schema app are found');
-- "Fixed" means a search_path set on the function that ends with pg_temp: without pg_temp listed
-- last, the caller's temporary schema is searched first for tables and types.
select is(
    array(select p.oid::regprocedure::text from pg_proc p
          where p.pronamespace = 'app'::regnamespace and p.prosecdef
            and not exists (select 1 from unnest(p.proconfig) c
                            where c like 'search\_path=%' and c ~ '(^|[=,\s])pg_temp\s*$')
          order by 1),
    '{}'::text[],
    'every SECURITY DEFINER function of schema app sets search_path, with pg_temp last');
select is(
    array(select p.oid::regprocedure::text from pg_proc p
          where p.pronamespace = 'app'::regnamespace and p.prosecdef
            and has_function_privilege('public', p.oid, 'EXECUTE')
          order by 1),
    '{}'::text[],
    'no SECURITY DEFINER function of schema app is executable by PUBLIC');
select is(
    array(select p.oid::regprocedure::text || ' owned by ' || r.rolname from pg_proc p
          join pg_roles r on r.oid = p.proowner
          where p.pronamespace = 'app'::regnamespace and p.prosecdef and (r.rolsuper or r.rolbypassrls)
          order by 1),
    '{}'::text[],
    'no SECURITY DEFINER function of schema app runs as a superuser or BYPASSRLS role');

select * from finish();
rollback;
