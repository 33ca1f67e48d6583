-- Least privilege for the roles requests run as.
--
-- 1. Pre-authentication gets its own role. app.login_lookup returns any organization's
--    password hashes and app.rotate_refresh_token acts on any session: tenantry_app, the role
--    of every tenant transaction, could call both. Log-in, refresh and readiness now run as
--    tenantry_anon (src/db/tx.rs, AnonTx), a NOLOGIN NOBYPASSRLS role that may execute those
--    functions and read the migration history, and nothing else; tenantry_app may not.
--    The pool's login role must be a member of both (see deploy/initdb/10-roles.sh).
-- 2. What every role gets through PUBLIC, and the request roles do not need, is revoked in
--    this database: temporary tables (a pooled connection would keep one from one tenant's
--    request to the next), large objects (one store for every tenant), NOTIFY through
--    pg_notify, and advisory locks other than transaction-scoped ones (app.keep_an_owner,
--    app.require_live_owner and app.lock_user_for_removal take them as the invoker,
--    tenantry_app, which keeps those two). The
--    LISTEN and NOTIFY statements need no privilege and cannot be revoked; SECURITY.md lists
--    what stays visible. Revoking privileges on pg_catalog functions needs a superuser, and
--    on the database its owner: run as another role, those statements only warn, and the
--    start-up self-check warns that they are missing.
do $$
begin
    if not exists (select 1 from pg_catalog.pg_roles where rolname = 'tenantry_anon') then
        create role tenantry_anon nologin nosuperuser nobypassrls nocreatedb nocreaterole noinherit;
    end if;
exception when duplicate_object or unique_violation then
    null; -- another database's migration created it concurrently
end
$$;
alter role tenantry_anon nologin nosuperuser nobypassrls nocreatedb nocreaterole noinherit;

grant usage on schema app to tenantry_anon;
grant execute on function app.login_lookup(text, text), app.text_key(text) to tenantry_anon;
grant execute on function app.rotate_refresh_token(uuid, uuid, bytea, bytea, interval)
    to tenantry_anon;
revoke execute on function app.login_lookup(text, text) from tenantry_app;
revoke execute on function app.rotate_refresh_token(uuid, uuid, bytea, bytea, interval)
    from tenantry_app;

-- Readiness reads the migration history before any tenant is known.
grant select on table refinery_schema_history to tenantry_anon;
revoke select on table refinery_schema_history from tenantry_app;

-- PUBLIC's privileges in this database, restricted by one function: on a Citus cluster the
-- workers are databases of their own, and `tenantry distribute` runs the same function on each
-- of them (app.restrict_public_on_workers, V16), where these roles may log in.
create function app.restrict_public() returns void
    language plpgsql volatile
    set search_path = pg_catalog, pg_temp
    as $$
declare
    f regprocedure;
begin
    execute pg_catalog.format('revoke temporary on database %I from public',
                              pg_catalog.current_database());
    revoke create on schema public from public;
    for f in
        select p.oid::regprocedure from pg_catalog.pg_proc p
         where p.pronamespace = 'pg_catalog'::regnamespace
           and (p.proname ~ '^lo_' or p.proname in ('loread', 'lowrite')
                or p.proname ~ '^pg_(try_)?advisory_' or p.proname = 'pg_notify')
    loop
        execute pg_catalog.format('revoke execute on function %s from public', f);
    end loop;
    grant execute on function pg_catalog.pg_advisory_xact_lock(bigint),
        pg_catalog.pg_advisory_xact_lock_shared(bigint) to tenantry_app;
    -- `tenantry migrate` serialises concurrent migrators on a session advisory lock: the
    -- database's owner (usually the migration role) keeps that one.
    grant execute on function pg_catalog.pg_advisory_lock(bigint),
        pg_catalog.pg_advisory_unlock(bigint) to pg_database_owner;
end
$$;
revoke all on function app.restrict_public() from public;
select app.restrict_public();
