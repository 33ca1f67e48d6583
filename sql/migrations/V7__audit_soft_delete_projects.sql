-- Audit columns everywhere, soft delete of users, the example business resource `projects`,
-- idempotency keys for creates, and the narrow maintenance role that purges old rows.

------------------------------------------------------------------------------------------------
-- Audit: created_at/updated_at/created_by/updated_by on every tenant table, set by the
-- database from the transaction's user (app.user_id); whatever a caller writes is overwritten.
------------------------------------------------------------------------------------------------
alter table app.organizations add column created_by uuid, add column updated_by uuid;
alter table app.users add column created_by uuid, add column updated_by uuid,
    add column deleted_at timestamptz;
alter table app.sessions add column created_by uuid, add column updated_by uuid;

create or replace function app.stamp_timestamps() returns trigger
    language plpgsql
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if tg_op = 'INSERT' then
        new.created_at := now();
        new.created_by := app.current_user_id();
    else
        new.created_at := old.created_at;
        new.created_by := old.created_by;
    end if;
    new.updated_at := now();
    new.updated_by := app.current_user_id();
    return new;
end
$$;

------------------------------------------------------------------------------------------------
-- Soft delete of users: a deleted user keeps its row (audit, restore) but frees its email,
-- cannot log in, and its sessions stop authenticating at once.
------------------------------------------------------------------------------------------------
drop index app.uq_users_org_id_email;
create unique index uq_users_org_id_email on app.users (org_id, email) where deleted_at is null;
grant update (deleted_at) on app.users to tenantry_app;

-- Deleting and restoring are owner/admin acts (the update policy already keeps admins away
-- from owners' rows).
create or replace function app.guard_role_change() returns trigger
    language plpgsql
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if current_user = 'tenantry_app' then
        if new.role is distinct from old.role then
            if new.id = app.current_user_id() then
                raise exception 'nobody changes their own role' using errcode = '42501';
            end if;
            if app.current_user_role() is distinct from 'owner'
               and (app.current_user_role() is distinct from 'admin'
                    or 'owner' in (old.role, new.role)) then
                raise exception 'this role change needs an owner' using errcode = '42501';
            end if;
        end if;
        if new.deleted_at is distinct from old.deleted_at
           and app.current_user_role() not in ('owner', 'admin') then
            raise exception 'only owners and admins remove or restore users' using errcode = '42501';
        end if;
    end if;
    return new;
end
$$;

drop trigger guard_role_change on app.users;
create trigger guard_role_change before update of role, deleted_at on app.users
    for each row execute function app.guard_role_change();

-- The last live owner stays, whether demoted, soft-deleted or deleted.
create or replace function app.keep_an_owner() returns trigger
    language plpgsql
    set search_path = pg_catalog, pg_temp
    as $$
begin
    perform pg_advisory_xact_lock(hashtextextended('tenantry.owners:' || old.org_id::text, 0));
    if exists (select 1 from app.organizations o where o.id = old.org_id)
       and not exists (select 1 from app.users u
                       where u.org_id = old.org_id and u.role = 'owner' and u.deleted_at is null)
    then
        raise exception 'an organization must keep at least one owner'
            using errcode = '23514', constraint = 'ck_users_last_owner';
    end if;
    return null;
end
$$;

drop trigger keep_an_owner on app.users;
create trigger keep_an_owner after update of role, deleted_at or delete on app.users
    for each row when (old.role = 'owner' and old.deleted_at is null)
    execute function app.keep_an_owner();

-- A deleted user's sessions no longer authenticate.
create or replace function app.authorize_session(p_session_id uuid) returns text
    language plpgsql volatile
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_role text;
begin
    select u.role into v_role
    from app.sessions s
    join app.users u on u.org_id = s.org_id and u.id = s.user_id
    where s.org_id = app.current_org_id()
      and s.id = p_session_id
      and s.user_id = app.current_user_id()
      and s.revoked_at is null
      and s.expires_at > now()
      and u.deleted_at is null;
    if v_role is null then
        raise exception 'the session is not active' using errcode = '28000';
    end if;
    execute format('set local app.role = %L', v_role);
    return v_role;
end
$$;

-- Deleted users cannot log in or refresh. Replacing tenantry_auth's functions needs its
-- membership for a moment (as in V3).
grant select (deleted_at) on app.users to tenantry_auth;
do $$
begin
    if not (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
        execute pg_catalog.format('grant tenantry_auth to %I', current_user);
    end if;
end
$$;

create or replace function app.login_lookup(p_org_slug text, p_email text)
    returns table (org_id uuid, user_id uuid, password_hash text, role text)
    language plpgsql stable security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    return query
        select u.org_id, u.id, u.password_hash, u.role
        from app.organizations o
        join app.users u on u.org_id = o.id
        where o.slug = p_org_slug and u.email = p_email and u.deleted_at is null;
end
$$;

create or replace function app.rotate_refresh_token(
    p_org_id uuid, p_session_id uuid, p_presented bytea, p_next bytea, p_grace interval)
    returns table (outcome text, user_id uuid, role text, expires_at timestamptz)
    language plpgsql volatile security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    s record;
    v_role text;
begin
    select x.user_id, x.current_hashes, x.retired_hashes, x.last_retired, x.rotated_at,
           x.expires_at, x.revoked_at
      into s
      from app.sessions x
     where x.org_id = p_org_id and x.id = p_session_id
       for update;
    if not found or s.revoked_at is not null or s.expires_at <= now() then
        return query select 'invalid'::text, null::uuid, null::text, null::timestamptz;
        return;
    end if;
    select u.role into v_role from app.users u
     where u.org_id = p_org_id and u.id = s.user_id and u.deleted_at is null;
    if v_role is null then
        return query select 'invalid'::text, null::uuid, null::text, null::timestamptz;
        return;
    end if;

    if p_presented = any (s.current_hashes) then
        update app.sessions x
           set current_hashes = array[p_next],
               retired_hashes = (s.retired_hashes || p_presented)[greatest(1, cardinality(s.retired_hashes) - 62):],
               last_retired = p_presented,
               rotated_at = now(),
               last_used_at = now()
         where x.org_id = p_org_id and x.id = p_session_id;
        return query select 'rotated'::text, s.user_id, v_role, s.expires_at;
    elsif p_presented = s.last_retired and s.rotated_at > now() - p_grace
          and cardinality(s.current_hashes) < 4 then
        update app.sessions x
           set current_hashes = s.current_hashes || p_next,
               last_used_at = now()
         where x.org_id = p_org_id and x.id = p_session_id;
        return query select 'rotated'::text, s.user_id, v_role, s.expires_at;
    elsif p_presented = any (s.retired_hashes) then
        update app.sessions x set revoked_at = now()
         where x.org_id = p_org_id and x.id = p_session_id;
        return query select 'reused'::text, s.user_id, null::text, null::timestamptz;
    else
        return query select 'invalid'::text, null::uuid, null::text, null::timestamptz;
    end if;
end
$$;

do $$
begin
    if not (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
        execute pg_catalog.format('revoke tenantry_auth from %I', current_user);
    end if;
end
$$;

------------------------------------------------------------------------------------------------
-- Projects: the example business resource. Copy this block for a new tenant table (see
-- docs/adding-a-table.md).
------------------------------------------------------------------------------------------------
create table app.projects (
    org_id uuid not null default app.current_org_id(),
    id uuid not null,
    name text not null,
    description text not null default '',
    owner_id uuid not null,
    status text not null default 'active',
    version bigint not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    created_by uuid,
    updated_by uuid,
    deleted_at timestamptz,
    constraint pk_projects primary key (org_id, id),
    constraint fk_projects_org_id foreign key (org_id)
        references app.organizations (id) on delete cascade,
    -- Composite: a project's owner is always a user of the same organization.
    constraint fk_projects_owner foreign key (org_id, owner_id)
        references app.users (org_id, id),
    constraint ck_projects_name
        check (length(name) between 1 and 200 and name = btrim(name)),
    constraint ck_projects_description check (length(description) <= 2000),
    constraint ck_projects_status check (status in ('active', 'archived'))
);

-- Names are unique per organization among live projects, whatever their letter case.
create unique index uq_projects_org_id_name on app.projects (org_id, lower(name))
    where deleted_at is null;
create index ix_projects_org_id_owner_id on app.projects (org_id, owner_id);
create index ix_projects_org_id_name on app.projects (org_id, lower(name), id);

create trigger stamp_timestamps before insert or update on app.projects
    for each row execute function app.stamp_timestamps();

-- Optimistic concurrency: every change bumps the version (the ETag).
create function app.bump_version() returns trigger
    language plpgsql
    set search_path = pg_catalog, pg_temp
    as $$
begin
    new.version := old.version + 1;
    return new;
end
$$;

create trigger bump_version before update on app.projects
    for each row execute function app.bump_version();
revoke all on function app.bump_version() from public;

alter table app.projects enable row level security;
alter table app.projects force row level security;

-- Everyone reads the organization's projects; members create and edit their own; owners and
-- admins everything.
create policy projects_select on app.projects for select to tenantry_app
    using (org_id = app.current_org_id());
create policy projects_insert on app.projects for insert to tenantry_app
    with check (org_id = app.current_org_id()
                and (owner_id = app.current_user_id()
                     or app.current_user_role() in ('owner', 'admin')));
create policy projects_update on app.projects for update to tenantry_app
    using (org_id = app.current_org_id()
           and (owner_id = app.current_user_id()
                or app.current_user_role() in ('owner', 'admin')))
    with check (org_id = app.current_org_id()
                and (owner_id = app.current_user_id()
                     or app.current_user_role() in ('owner', 'admin')));
create policy projects_delete on app.projects for delete to tenantry_app
    using (org_id = app.current_org_id() and app.current_user_role() in ('owner', 'admin'));

grant select, insert on app.projects to tenantry_app;
grant update (name, description, owner_id, status, deleted_at) on app.projects to tenantry_app;

------------------------------------------------------------------------------------------------
-- Idempotency keys: the first response to a create, replayed for the same key and body.
------------------------------------------------------------------------------------------------
create table app.idempotency_keys (
    org_id uuid not null default app.current_org_id(),
    key text not null,
    operation text not null,
    request_hash bytea not null,
    response_status integer,
    response_body jsonb,
    expires_at timestamptz not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    created_by uuid,
    updated_by uuid,
    constraint pk_idempotency_keys primary key (org_id, key),
    constraint fk_idempotency_keys_org_id foreign key (org_id)
        references app.organizations (id) on delete cascade,
    constraint ck_idempotency_keys_key check (length(key) between 1 and 255)
);

create trigger stamp_timestamps before insert or update on app.idempotency_keys
    for each row execute function app.stamp_timestamps();

alter table app.idempotency_keys enable row level security;
alter table app.idempotency_keys force row level security;
create policy idempotency_keys_select on app.idempotency_keys for select to tenantry_app
    using (org_id = app.current_org_id());
create policy idempotency_keys_insert on app.idempotency_keys for insert to tenantry_app
    with check (org_id = app.current_org_id());
create policy idempotency_keys_update on app.idempotency_keys for update to tenantry_app
    using (org_id = app.current_org_id()) with check (org_id = app.current_org_id());
create policy idempotency_keys_delete on app.idempotency_keys for delete to tenantry_app
    using (org_id = app.current_org_id());

grant select, insert, delete on app.idempotency_keys to tenantry_app;
grant update (operation, request_hash, response_status, response_body, expires_at)
    on app.idempotency_keys to tenantry_app;
