-- Catalog checks of the whole `app` schema. They query the catalog instead of naming tables, so
-- a table, policy, key or view added by a future migration is checked automatically; each check
-- lists the offending objects (and an empty list passes).
--
-- Tenant tables: every table of schema app with an org_id column, plus app.organizations (the
-- tenants themselves, keyed by id). Its "tenant key" is org_id, or id for app.organizations.
begin;
select plan(21);

-- Policy expressions are compared as text: keep `app` off the search_path so that pg_get_expr
-- always prints app.current_org_id() schema-qualified.
set local search_path = public, pg_catalog;

create temp view app_tables as
    select c.oid, c.oid::regclass::text as name, c.relrowsecurity, c.relforcerowsecurity
    from pg_class c
    where c.relnamespace = 'app'::regnamespace and c.relkind in ('r', 'p');

create temp view tenant_tables as
    select t.oid, t.name,
           case when t.oid = 'app.organizations'::regclass then 'id' else 'org_id' end as key_column
    from app_tables t
    where t.oid = 'app.organizations'::regclass
       or exists (select 1 from pg_attribute a
                  where a.attrelid = t.oid and a.attname = 'org_id' and a.attnum > 0
                    and not a.attisdropped);

-- Policies that apply to tenantry_app: its own and PUBLIC's (polroles = {0}).
create temp view app_policies as
    select p.polrelid, p.polrelid::regclass::text as table_name, p.polname, p.polcmd,
           p.polpermissive, p.polroles,
           pg_get_expr(p.polqual, p.polrelid) as qual,
           pg_get_expr(p.polwithcheck, p.polrelid) as with_check,
           (p.polroles && array[(select oid from pg_roles where rolname = 'tenantry_app'), 0::oid]) as applies_to_app
    from pg_policy p
    join pg_class c on c.oid = p.polrelid
    where c.relnamespace = 'app'::regnamespace;

-- The checks must not pass vacuously.
select ok(array['app.organizations', 'app.users'] <@ array(select name from tenant_tables),
    'premise: the tenant tables found in the catalog include app.organizations and app.users');
select ok((select count(*) from app_policies where applies_to_app) >= 8,
    'premise: the policies of tenantry_app are found in the catalog');

------------------------------------------------------------------------------------------------
-- Row-level security on every table of schema app.
------------------------------------------------------------------------------------------------
select is(array(select name from app_tables where not relrowsecurity order by name), '{}'::text[],
    'every table of schema app has row level security enabled (relrowsecurity)');
select is(array(select name from app_tables where not relforcerowsecurity order by name), '{}'::text[],
    'every table of schema app forces row level security (relforcerowsecurity)');

select is(
    array(select t.name || ': no ' || c.label || ' policy for tenantry_app'
          from app_tables t
          cross join (values ('r', 'SELECT', 1), ('a', 'INSERT', 2), ('w', 'UPDATE', 3), ('d', 'DELETE', 4))
              as c(code, label, ord)
          where not exists (select 1 from app_policies p
                            where p.polrelid = t.oid and p.applies_to_app and p.polpermissive
                              and p.polcmd in (c.code, '*'))
          order by t.name, c.ord),
    '{}'::text[],
    'every table of schema app has permissive SELECT, INSERT, UPDATE and DELETE policies for tenantry_app');

-- A policy that applies to tenantry_app on a tenant table must be scoped to the context: its
-- expression is `(<key> = app.current_org_id())`, possibly AND-ed with further conditions. For
-- UPDATE (and ALL) the USING expression also checks new rows when WITH CHECK is absent.
create temp view policy_scoping as
    select p.*, t.key_column,
           coalesce(p.qual = '(' || t.key_column || ' = app.current_org_id())'
                    or starts_with(p.qual, '((' || t.key_column || ' = app.current_org_id()) AND '),
                    false) as qual_scoped,
           coalesce(p.with_check = '(' || t.key_column || ' = app.current_org_id())'
                    or starts_with(p.with_check, '((' || t.key_column || ' = app.current_org_id()) AND '),
                    false) as check_scoped
    from app_policies p join tenant_tables t on t.oid = p.polrelid
    where p.applies_to_app and p.polpermissive;

create temp view unscoped_policies as
    select table_name || '.' || polname || ' (' || polcmd::text || '): using '
               || coalesce(qual, '<none>') || ', with check ' || coalesce(with_check, '<none>') as offence
    from policy_scoping
    where not ((polcmd = 'a' or qual_scoped)
               and (polcmd in ('r', 'd') or check_scoped or (polcmd <> 'a' and with_check is null)));

select is(array(select offence from unscoped_policies order by 1), '{}'::text[],
    'every policy of tenantry_app on a tenant table is scoped by <key> = app.current_org_id()');

select is(
    array(select table_name || '.' || polname || ' (' || polcmd::text || ') to ' || polroles::regrole[]::text
          from app_policies
          where not (polroles = array['tenantry_app'::regrole::oid]
                     or (polroles = array['tenantry_auth'::regrole::oid]
                         and (polcmd = 'r' or table_name = 'app.sessions'))
                     or (polroles = array['tenantry_maintenance'::regrole::oid]
                         and polcmd in ('r', 'd'))
                     or (polroles = array['tenantry_mailer'::regrole::oid]
                         and table_name = 'app.outbound_emails' and polcmd in ('r', 'w'))
                     or (polroles = array['tenantry_relay'::regrole::oid]
                         and polcmd in ('r', 'a', 'w')
                         and table_name in ('app.webhook_endpoints', 'app.webhook_deliveries',
                                            'app.events', 'app.event_counters'))
                     or (polroles = array['tenantry_relay_scan'::regrole::oid]
                         and polcmd = 'r'
                         and table_name in ('app.webhook_endpoints', 'app.webhook_deliveries',
                                            'app.event_counters')))
          order by 1),
    '{}'::text[],
    'policies of schema app are for tenantry_app only, for tenantry_auth (SELECT-only, '
    'except on sessions: refresh rotation), tenantry_maintenance (SELECT and DELETE: '
    'retention), tenantry_mailer (SELECT and UPDATE of the outbox), the webhook relay '
    '(tenantry_relay: reads, writes of deliveries and endpoints) or its scan '
    '(tenantry_relay_scan: SELECT); never PUBLIC');

-- The relay's policies are scoped to the organization it entered, like tenantry_app's.
select is(
    array(select table_name || '.' || polname from app_policies
          where polroles = array['tenantry_relay'::regrole::oid]
            and not (coalesce(qual = '(org_id = app.current_org_id())', true)
                     and coalesce(with_check = '(org_id = app.current_org_id())', true))
          order by 1),
    '{}'::text[],
    'every policy of tenantry_relay is scoped by org_id = app.current_org_id()');

------------------------------------------------------------------------------------------------
-- Privileges that would get around RLS or move rows between tenants.
------------------------------------------------------------------------------------------------
select is(
    array(select name from app_tables
          where has_table_privilege('tenantry_app', oid, 'TRUNCATE, TRIGGER, REFERENCES')
             or has_any_column_privilege('tenantry_app', oid, 'REFERENCES')
          order by name),
    '{}'::text[],
    'tenantry_app holds no TRUNCATE (not subject to RLS), TRIGGER or REFERENCES on any app table');
select is(
    array(select name || '.' || key_column from tenant_tables
          where has_column_privilege('tenantry_app', oid, key_column, 'UPDATE')
          order by name),
    '{}'::text[],
    'tenantry_app cannot UPDATE the tenant key (org_id, organizations.id) of any tenant table');
select is(
    array(select name from app_tables
          where has_table_privilege('public', oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
             or has_any_column_privilege('public', oid, 'SELECT, INSERT, UPDATE, REFERENCES')
          order by name),
    '{}'::text[],
    'PUBLIC holds no privilege on any app table');
select ok(not has_schema_privilege('public', 'app', 'USAGE')
          and not has_schema_privilege('public', 'app', 'CREATE')
          and not has_schema_privilege('tenantry_app', 'app', 'CREATE'),
    'PUBLIC has no privilege on schema app and tenantry_app cannot create in it');
select is(
    array(select p.oid::regprocedure::text from pg_proc p
          where p.pronamespace = 'app'::regnamespace and has_function_privilege('public', p.oid, 'EXECUTE')
          order by 1),
    '{}'::text[],
    'no function of schema app is executable by PUBLIC');

------------------------------------------------------------------------------------------------
-- Relations that RLS cannot protect.
------------------------------------------------------------------------------------------------
select is(
    array(select c.oid::regclass::text || ' (relkind ' || c.relkind::text || ')' from pg_class c
          where c.relnamespace = 'app'::regnamespace
            and (c.relkind in ('m', 'f')
                 or c.relkind = 'v' and not coalesce('security_invoker=true' = any(c.reloptions)
                                                     or 'security_invoker=on' = any(c.reloptions), false))
          order by 1),
    '{}'::text[],
    'schema app holds no materialized view, foreign table or view without security_invoker (they bypass RLS)');

------------------------------------------------------------------------------------------------
-- Keys: everything of a tenant is keyed by org_id.
------------------------------------------------------------------------------------------------
select is(
    array(select t.name from tenant_tables t
          join pg_attribute a on a.attrelid = t.oid and a.attname = 'org_id'
          where not a.attnotnull or a.atttypid <> 'uuid'::regtype
          order by 1),
    '{}'::text[],
    'org_id is uuid not null in every table that has it');
select is(
    array(select i.indexrelid::regclass::text from pg_index i
          join tenant_tables t on t.oid = i.indrelid and t.key_column = 'org_id'
          join pg_attribute a on a.attrelid = t.oid and a.attname = 'org_id'
          where i.indisunique and i.indkey[0] <> a.attnum
          order by 1),
    '{}'::text[],
    'every primary key and unique index of a table with org_id leads with org_id');
select is(
    array(select name from tenant_tables t
          where t.key_column = 'org_id'
            and not exists (select 1 from pg_constraint c
                            where c.conrelid = t.oid and c.contype = 'f'
                              and c.confrelid = 'app.organizations'::regclass)
          order by 1),
    '{}'::text[],
    'every table with org_id has a foreign key to app.organizations');

-- Foreign keys declared on tables with org_id.
create temp view org_fks as
    select c.oid, c.conname, c.conrelid::regclass::text as table_name, c.conkey, c.confkey,
           c.confrelid, a.attnum as org_attnum
    from pg_constraint c
    join tenant_tables t on t.oid = c.conrelid and t.key_column = 'org_id'
    join pg_attribute a on a.attrelid = c.conrelid and a.attname = 'org_id'
    where c.contype = 'f';

select ok((select count(*) from org_fks) >= 1, 'premise: the foreign keys of tenant tables are found');
select is(
    array(select table_name || '.' || conname from org_fks where not org_attnum = any(conkey) order by 1),
    '{}'::text[],
    'every foreign key of a table with org_id includes org_id among its columns');
-- Stronger: org_id must be matched with the referenced row's organization (its org_id, or the id
-- of app.organizations), not with some other column.
select is(
    array(select f.table_name || '.' || f.conname from org_fks f
          where not exists (
              select 1 from generate_subscripts(f.conkey, 1) k
              join pg_attribute ra on ra.attrelid = f.confrelid and ra.attnum = f.confkey[k]
              where f.conkey[k] = f.org_attnum
                and ra.attname = case when f.confrelid = 'app.organizations'::regclass
                                      then 'id' else 'org_id' end)
          order by 1),
    '{}'::text[],
    'every foreign key of a table with org_id maps org_id onto the referenced row''s organization');
select is(
    array(select c.conrelid::regclass::text || '.' || c.conname from pg_constraint c
          join tenant_tables t on t.oid = c.confrelid
          where c.contype = 'f' and c.connamespace = 'app'::regnamespace
            and not exists (select 1 from org_fks f where f.oid = c.oid)
          order by 1),
    '{}'::text[],
    'every foreign key in schema app that references a tenant table is declared on a table with org_id');

select * from finish();
rollback;
