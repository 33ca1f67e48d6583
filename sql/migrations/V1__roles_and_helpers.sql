-- Roles, the application schema and the tenant-context helpers every policy uses.
--
-- Roles are cluster-wide, so they are created idempotently: several databases (and every test
-- clone) share them. Neither role can log in; the pool's login role enters `tenantry_app` with
-- `SET LOCAL ROLE` inside each transaction (see src/db/tx.rs).
--
-- * tenantry_app  - the runtime role. NOSUPERUSER NOBYPASSRLS, owns nothing, holds only the
--                   grants it needs. Every tenant table forces RLS, so this role sees exactly the
--                   rows of the organization named by `app.org_id`.
-- * tenantry_auth - owns the narrow SECURITY DEFINER functions used before a tenant is known
--                   (log-in). It may read only the columns those functions return.
do $$
begin
    if not exists (select 1 from pg_catalog.pg_roles where rolname = 'tenantry_app') then
        create role tenantry_app nologin nosuperuser nobypassrls nocreatedb nocreaterole noinherit;
    end if;
exception when duplicate_object or unique_violation then
    null; -- another database's migration created it concurrently
end
$$;

do $$
begin
    if not exists (select 1 from pg_catalog.pg_roles where rolname = 'tenantry_auth') then
        create role tenantry_auth nologin nosuperuser nobypassrls nocreatedb nocreaterole noinherit;
    end if;
exception when duplicate_object or unique_violation then
    null;
end
$$;

-- A role created by an earlier release keeps its attributes; state them again so a tampered
-- role is corrected by a fresh migration run (the start-up self-check verifies them too).
alter role tenantry_app nologin nosuperuser nobypassrls;
alter role tenantry_auth nologin nosuperuser nobypassrls;

create schema app;
revoke all on schema app from public;
grant usage on schema app to tenantry_app, tenantry_auth;

-- The tenant of the current transaction, or NULL when none is set. `current_setting(.., true)`
-- returns NULL when the setting was never defined on this connection, but '' on a pooled
-- connection after an earlier transaction's `SET LOCAL` ended: nullif makes both fail closed
-- (`org_id = NULL` matches no row). Schema-qualified builtins keep a hostile search_path out.
create function app.current_org_id() returns uuid
    language sql stable parallel safe
    as $$ select nullif(pg_catalog.current_setting('app.org_id', true), '')::uuid $$;

create function app.current_user_id() returns uuid
    language sql stable parallel safe
    as $$ select nullif(pg_catalog.current_setting('app.user_id', true), '')::uuid $$;

create function app.current_user_role() returns text
    language sql stable parallel safe
    as $$ select nullif(pg_catalog.current_setting('app.role', true), '') $$;

-- Audit timestamps belong to the database: callers can neither backdate a row nor forge
-- `updated_at`, whatever their INSERT or UPDATE says.
create function app.stamp_timestamps() returns trigger
    language plpgsql
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if tg_op = 'INSERT' then
        new.created_at := now();
    else
        new.created_at := old.created_at;
    end if;
    new.updated_at := now();
    return new;
end
$$;

revoke all on function app.current_org_id(), app.current_user_id(), app.current_user_role(),
    app.stamp_timestamps() from public;
grant execute on function app.current_org_id(), app.current_user_id(), app.current_user_role()
    to tenantry_app, tenantry_auth;
