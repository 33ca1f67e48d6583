-- API keys: machine access for an organization (scripts, CI jobs, back-end services), without a
-- person's password, and who acted, person or key, in every audit field.
--
-- A key is `tnt_` + its id + its organization's id + 256 random bits + a CRC32 checksum
-- (src/auth/api_key.rs). Only the SHA-256 of the random part is stored. The organization comes
-- from the key itself: app.enter_key sets it, looks the key up by (org_id, id) (one shard on
-- Citus) and compares the hashes in constant time, in the request's own pipeline, like
-- app.enter does for sessions. Revocation, expiry and the key's role are read on every request.
--
-- A key is not a person: app.user_id stays unset in its transactions, so every rule that needs
-- a person (a member's own projects, one's own sessions) denies a key. Its role is at most admin.

------------------------------------------------------------------------------------------------
-- Who acted: a person (app.user_id, set by app.enter and at log-in) or an API key
-- (app.api_key_id, set by app.enter_key). A transaction has at most one of them. These two
-- functions are the one definition of "who acted"; the audit trigger and the service's events
-- read the same pair.
------------------------------------------------------------------------------------------------
create function app.current_api_key_id() returns uuid
    language sql stable parallel safe
    as $$ select nullif(pg_catalog.current_setting('app.api_key_id', true), '')::uuid $$;

create function app.current_actor_type() returns text
    language sql stable parallel safe
    as $$ select case when app.current_user_id() is not null then 'user'
                      when app.current_api_key_id() is not null then 'api_key' end $$;

create function app.current_actor_id() returns uuid
    language sql stable parallel safe
    as $$ select coalesce(app.current_user_id(), app.current_api_key_id()) $$;

revoke all on function app.current_api_key_id(), app.current_actor_type(), app.current_actor_id()
    from public;
grant execute on function app.current_api_key_id(), app.current_actor_type(), app.current_actor_id()
    to tenantry_app, tenantry_auth, tenantry_maintenance;

-- Audit fields that say what kind of actor `created_by`/`updated_by` name. Every row written
-- until now was written by a person (or by no one, when the id is NULL): the default fills
-- the existing rows without rewriting the table, and is dropped at once, since the trigger
-- sets the kind of every new row.
alter table app.organizations add column created_by_type text default 'user',
    add column updated_by_type text default 'user';
alter table app.users add column created_by_type text default 'user',
    add column updated_by_type text default 'user';
alter table app.sessions add column created_by_type text default 'user',
    add column updated_by_type text default 'user';
alter table app.projects add column created_by_type text default 'user',
    add column updated_by_type text default 'user';
alter table app.idempotency_keys add column created_by_type text default 'user',
    add column updated_by_type text default 'user';
alter table app.organizations alter column created_by_type drop default,
    alter column updated_by_type drop default;
alter table app.users alter column created_by_type drop default,
    alter column updated_by_type drop default;
alter table app.sessions alter column created_by_type drop default,
    alter column updated_by_type drop default;
alter table app.projects alter column created_by_type drop default,
    alter column updated_by_type drop default;
alter table app.idempotency_keys alter column created_by_type drop default,
    alter column updated_by_type drop default;

create or replace function app.stamp_timestamps() returns trigger
    language plpgsql
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if tg_op = 'INSERT' then
        new.created_at := now();
        new.created_by := app.current_actor_id();
        new.created_by_type := app.current_actor_type();
    else
        new.created_at := old.created_at;
        new.created_by := old.created_by;
        new.created_by_type := old.created_by_type;
    end if;
    new.updated_at := now();
    new.updated_by := app.current_actor_id();
    new.updated_by_type := app.current_actor_type();
    return new;
end
$$;

------------------------------------------------------------------------------------------------
-- The keys.
------------------------------------------------------------------------------------------------
create table app.api_keys (
    org_id uuid not null default app.current_org_id(),
    id uuid not null,
    name text not null,
    role text not null,
    -- SHA-256 of the key's 32 random bytes; the key itself is never stored.
    secret_hash bytea not null,
    expires_at timestamptz,
    -- Written at most once a minute per key, by app.enter_key.
    last_used_at timestamptz,
    revoked_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    created_by uuid,
    created_by_type text,
    updated_by uuid,
    updated_by_type text,
    constraint pk_api_keys primary key (org_id, id),
    constraint fk_api_keys_org_id foreign key (org_id)
        references app.organizations (id) on delete cascade,
    constraint ck_api_keys_name check (
        length(name) between 1 and 200 and pg_catalog.btrim(name, app.white_space()) = name),
    constraint ck_api_keys_name_text check (app.is_identity_text(name)),
    -- A key acts at most as an admin: owners are people.
    constraint ck_api_keys_role check (role in ('admin', 'member')),
    constraint ck_api_keys_secret_hash check (octet_length(secret_hash) = 32),
    -- Checked after the audit trigger stamped created_at: an expiry in the past is refused.
    constraint ck_api_keys_expires_at check (expires_at > created_at)
);

-- Only changes a person makes stamp the row: app.enter_key's last_used_at writes do not.
create trigger stamp_timestamps before insert or update of name, role, expires_at, revoked_at
    on app.api_keys for each row execute function app.stamp_timestamps();

-- Creating and revoking keys are a person's acts (owners and admins; the policies check the
-- roles), and a revoked key stays revoked.
create function app.guard_api_key_change() returns trigger
    language plpgsql
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if current_user = 'tenantry_app' then
        if tg_op = 'INSERT' and app.current_user_id() is null then
            raise exception 'only a person creates API keys' using errcode = '42501';
        end if;
        if tg_op = 'UPDATE' and new.revoked_at is distinct from old.revoked_at then
            if app.current_user_id() is null then
                raise exception 'only a person revokes API keys' using errcode = '42501';
            end if;
            if old.revoked_at is not null then
                raise exception 'a revoked API key stays revoked' using errcode = '42501';
            end if;
        end if;
    end if;
    return new;
end
$$;

create trigger guard_api_key_change before insert or update on app.api_keys
    for each row execute function app.guard_api_key_change();
revoke all on function app.guard_api_key_change() from public;

alter table app.api_keys enable row level security;
alter table app.api_keys force row level security;

-- Owners and admins see and revoke the organization's keys; a key sees (and stamps the use of)
-- its own row, which app.enter_key reads before the transaction's role is known. Members see
-- none. Owners mint admin and member keys, admins member keys only.
create policy api_keys_select on app.api_keys for select to tenantry_app
    using (org_id = app.current_org_id()
           and (app.current_user_role() in ('owner', 'admin') or id = app.current_api_key_id()));
create policy api_keys_insert on app.api_keys for insert to tenantry_app
    with check (org_id = app.current_org_id()
                and app.current_user_id() is not null
                and (app.current_user_role() = 'owner'
                     or (app.current_user_role() = 'admin' and role = 'member')));
create policy api_keys_update on app.api_keys for update to tenantry_app
    using (org_id = app.current_org_id()
           and (app.current_user_role() in ('owner', 'admin') or id = app.current_api_key_id()))
    with check (org_id = app.current_org_id());
-- Keys are revoked, never deleted, through the API (no DELETE grant): this policy keeps the
-- catalog complete.
create policy api_keys_delete on app.api_keys for delete to tenantry_app
    using (org_id = app.current_org_id() and app.current_user_role() = 'owner');

grant select, insert on app.api_keys to tenantry_app;
grant update (last_used_at, revoked_at) on app.api_keys to tenantry_app;

------------------------------------------------------------------------------------------------
-- app.enter_key: the app.enter of a key. One bound, cached call in the request's pipeline
-- (BEGIN; SET LOCAL ROLE tenantry_app; SELECT app.enter_key($1, $2, $3); <query>; ...): it
-- sets app.org_id and app.api_key_id with SET LOCAL (propagated by Citus), reads the key by
-- (org_id, id), routed by a variable so that Citus sends it to one shard, compares the hash of
-- the presented secret with the stored one in constant time, checks that the key is neither
-- revoked nor expired, records its use at most once a minute, sets app.role from the key and
-- returns it. Any failure is SQLSTATE 28P01 (401 API_KEY_INVALID), after the same statements
-- whether the key exists or not. SECURITY INVOKER: it runs as tenantry_app, under RLS (the
-- select policy shows the key its own row).
------------------------------------------------------------------------------------------------
create function app.same_hash(p_a bytea, p_b bytea) returns boolean
    language sql immutable strict parallel safe
    -- XOR of the two as bit strings, then a count of every bit: no early exit at the first
    -- difference. Lengths are not secret (both are SHA-256 digests).
    as $$ select case when pg_catalog.octet_length(p_a) <> pg_catalog.octet_length(p_b) then false
                      else pg_catalog.bit_count(('x' || pg_catalog.encode(p_a, 'hex'))::pg_catalog.varbit
                                                # ('x' || pg_catalog.encode(p_b, 'hex'))::pg_catalog.varbit) = 0
                 end $$;

create function app.enter_key(p_org_id uuid, p_key_id uuid, p_secret_hash bytea) returns text
    language plpgsql volatile
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_org uuid := p_org_id;
    v_key uuid := p_key_id;
    v_role text;
    v_hash bytea;
    v_last timestamptz;
    v_live boolean;
    v_found boolean;
begin
    if p_org_id is null or p_key_id is null or p_secret_hash is null then
        raise exception 'the API key is not valid' using errcode = '28P01';
    end if;
    execute format('set local app.org_id = %L', p_org_id);
    execute format('set local app.api_key_id = %L', p_key_id);
    select k.role, k.secret_hash, k.last_used_at,
           k.revoked_at is null and (k.expires_at is null or k.expires_at > now())
      into v_role, v_hash, v_last, v_live
      from app.api_keys k
     where k.org_id = v_org and k.id = v_key;
    v_found := found;
    -- The comparison runs whether or not the key exists (against 32 zero bytes then).
    if not (app.same_hash(coalesce(v_hash, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea),
                          p_secret_hash)
            and v_found and v_live) then
        raise exception 'the API key is not valid' using errcode = '28P01';
    end if;
    -- At most one write a minute per key; concurrent requests re-check the condition after
    -- the first one's commit and write nothing.
    if v_last is null or v_last < now() - interval '1 minute' then
        update app.api_keys k
           set last_used_at = now()
         where k.org_id = v_org and k.id = v_key
           and (k.last_used_at is null or k.last_used_at < now() - interval '1 minute');
    end if;
    execute format('set local app.role = %L', v_role);
    return v_role;
end
$$;

revoke all on function app.same_hash(bytea, bytea), app.enter_key(uuid, uuid, bytea) from public;
grant execute on function app.same_hash(bytea, bytea), app.enter_key(uuid, uuid, bytea)
    to tenantry_app;

------------------------------------------------------------------------------------------------
-- Retention: revoked and expired keys go like ended sessions (app.purge, V8).
------------------------------------------------------------------------------------------------
grant select (org_id, id, revoked_at, expires_at), delete on app.api_keys to tenantry_maintenance;
create policy api_keys_purge_read on app.api_keys for select to tenantry_maintenance
    using (revoked_at is not null or expires_at < now());
create policy api_keys_purge on app.api_keys for delete to tenantry_maintenance
    using (revoked_at is not null or expires_at < now());

do $$
begin
    if not (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
        execute pg_catalog.format('grant tenantry_maintenance to %I', current_user);
    end if;
end
$$;

create or replace function app.purge(p_before timestamptz)
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

    delete from app.api_keys k where k.revoked_at < p_before or k.expires_at < p_before;
    get diagnostics n = row_count;
    return query select 'api_keys'::text, n;
end
$$;

do $$
begin
    if not (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
        execute pg_catalog.format('revoke tenantry_maintenance from %I', current_user);
    end if;
end
$$;

select app.distribute_table('app.api_keys');
