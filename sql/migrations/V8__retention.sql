-- Retention: `tenantry purge` removes rows soft-deleted longer ago than the retention period,
-- sessions that ended that long ago, and expired idempotency keys.
--
-- It runs as tenantry_maintenance, a NOLOGIN NOBYPASSRLS role whose policies show it only
-- rows that are already deleted or expired: even this job cannot touch live data. The one
-- entry point is app.purge, a SECURITY DEFINER function executable by the migration role.
do $$
begin
    if not exists (select 1 from pg_catalog.pg_roles where rolname = 'tenantry_maintenance') then
        create role tenantry_maintenance nologin nosuperuser nobypassrls nocreatedb nocreaterole noinherit;
    end if;
exception when duplicate_object or unique_violation then
    null;
end
$$;
alter role tenantry_maintenance nologin nosuperuser nobypassrls;
grant usage on schema app to tenantry_maintenance;
grant execute on function app.current_org_id(), app.current_user_id(), app.current_user_role()
    to tenantry_maintenance;

grant select (org_id, id, owner_id, deleted_at), delete on app.projects to tenantry_maintenance;
create policy projects_purge_read on app.projects for select to tenantry_maintenance
    using (true);
create policy projects_purge on app.projects for delete to tenantry_maintenance
    using (deleted_at is not null);

grant select (org_id, id, deleted_at), delete on app.users to tenantry_maintenance;
create policy users_purge_read on app.users for select to tenantry_maintenance
    using (deleted_at is not null);
create policy users_purge on app.users for delete to tenantry_maintenance
    using (deleted_at is not null);

grant select (org_id, id, revoked_at, expires_at), delete on app.sessions to tenantry_maintenance;
create policy sessions_purge_read on app.sessions for select to tenantry_maintenance
    using (revoked_at is not null or expires_at < now());
create policy sessions_purge on app.sessions for delete to tenantry_maintenance
    using (revoked_at is not null or expires_at < now());

grant select (org_id, key, expires_at), delete on app.idempotency_keys to tenantry_maintenance;
create policy idempotency_keys_purge_read on app.idempotency_keys for select
    to tenantry_maintenance using (expires_at < now());
create policy idempotency_keys_purge on app.idempotency_keys for delete
    to tenantry_maintenance using (expires_at < now());

create function app.purge(p_before timestamptz)
    returns table (kind text, purged bigint)
    language plpgsql volatile security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    n bigint;
begin
    delete from app.projects p where p.deleted_at < p_before;
    get diagnostics n = row_count;
    return query select 'projects'::text, n;

    -- A removed user still named as a project's owner stays until that project goes.
    delete from app.users u
     where u.deleted_at < p_before
       and not exists (select 1 from app.projects p
                       where p.org_id = u.org_id and p.owner_id = u.id);
    get diagnostics n = row_count;
    return query select 'users'::text, n;

    delete from app.sessions s where s.revoked_at < p_before or s.expires_at < p_before;
    get diagnostics n = row_count;
    return query select 'sessions'::text, n;

    delete from app.idempotency_keys k where k.expires_at < now();
    get diagnostics n = row_count;
    return query select 'idempotency_keys'::text, n;
end
$$;

revoke all on function app.purge(timestamptz) from public;
do $$
begin
    execute pg_catalog.format('grant execute on function app.purge(timestamptz) to %I', current_user);
    if not (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
        execute pg_catalog.format('grant tenantry_maintenance to %I', current_user);
    end if;
end
$$;
grant create on schema app to tenantry_maintenance;
alter function app.purge(timestamptz) owner to tenantry_maintenance;
revoke create on schema app from tenantry_maintenance;
do $$
begin
    if not (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
        execute pg_catalog.format('revoke tenantry_maintenance from %I', current_user);
    end if;
end
$$;
