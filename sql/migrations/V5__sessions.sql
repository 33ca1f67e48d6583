-- Sessions: one per log-in (a refresh-token family, RFC 9700 section 4.14.2).
--
-- Refresh tokens are opaque: `base64url(org_id || session_id || 32 random bytes)`. Only the
-- SHA-256 of the random part is stored, and the runtime role cannot even read that column.
-- `current_hashes` holds the token(s) that may be exchanged now (more than one only after
-- concurrent refreshes inside the grace window); `retired_hashes` the rotated ones, so that
-- presenting one again is recognised as reuse and revokes the family. Sessions have an
-- absolute lifetime (`expires_at`) that rotation does not extend.
create table app.sessions (
    org_id uuid not null default app.current_org_id(),
    id uuid not null,
    user_id uuid not null,
    current_hashes bytea[] not null,
    retired_hashes bytea[] not null default '{}',
    last_retired bytea,
    rotated_at timestamptz,
    user_agent text,
    client_addr text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    last_used_at timestamptz not null default now(),
    expires_at timestamptz not null,
    revoked_at timestamptz,
    constraint pk_sessions primary key (org_id, id),
    constraint fk_sessions_org_id foreign key (org_id)
        references app.organizations (id) on delete cascade,
    constraint fk_sessions_user foreign key (org_id, user_id)
        references app.users (org_id, id) on delete cascade,
    constraint ck_sessions_user_agent check (length(user_agent) <= 512),
    constraint ck_sessions_client_addr check (length(client_addr) <= 64)
);

create index ix_sessions_org_id_user_id on app.sessions (org_id, user_id);

create trigger stamp_timestamps before insert or update on app.sessions
    for each row execute function app.stamp_timestamps();

alter table app.sessions enable row level security;
alter table app.sessions force row level security;

-- A user sees and ends their own sessions; owners and admins may end anyone's in their
-- organization (password resets, removals).
create policy sessions_select on app.sessions for select to tenantry_app
    using (org_id = app.current_org_id()
           and (user_id = app.current_user_id() or app.current_user_role() in ('owner', 'admin')));
create policy sessions_insert on app.sessions for insert to tenantry_app
    with check (org_id = app.current_org_id() and user_id = app.current_user_id());
create policy sessions_update on app.sessions for update to tenantry_app
    using (org_id = app.current_org_id()
           and (user_id = app.current_user_id() or app.current_user_role() in ('owner', 'admin')))
    with check (org_id = app.current_org_id());
create policy sessions_delete on app.sessions for delete to tenantry_app
    using (org_id = app.current_org_id() and user_id = app.current_user_id());

-- The runtime role writes hashes but never reads them back.
grant select (org_id, id, user_id, user_agent, client_addr, created_at, updated_at,
              last_used_at, expires_at, revoked_at) on app.sessions to tenantry_app;
grant insert on app.sessions to tenantry_app;
grant update (revoked_at) on app.sessions to tenantry_app;

-- Every request's transaction calls this right after setting app.org_id and app.user_id, in
-- the same pipeline: the session must be live and its user present, and the role comes from
-- the database (not from the token), so logging out, deleting or demoting a user takes
-- effect on the very next request. SECURITY INVOKER: it runs as tenantry_app, under RLS.
-- SQLSTATE 28000 tells the service the session is over (401).
create function app.authorize_session(p_session_id uuid) returns text
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
      and s.expires_at > now();
    if v_role is null then
        raise exception 'the session is not active' using errcode = '28000';
    end if;
    execute format('set local app.role = %L', v_role);
    return v_role;
end
$$;

revoke all on function app.authorize_session(uuid) from public;
grant execute on function app.authorize_session(uuid) to tenantry_app;

-- Refresh happens before authentication: like log-in, it goes through one narrow SECURITY
-- DEFINER function owned by tenantry_auth. It locks the session row, so concurrent refreshes
-- of one token serialise: outside the grace window only the first succeeds, and presenting a
-- rotated token revokes the whole family.
grant select (org_id, id, user_id, current_hashes, retired_hashes, last_retired, rotated_at,
              expires_at, revoked_at) on app.sessions to tenantry_auth;
grant update (current_hashes, retired_hashes, last_retired, rotated_at, last_used_at,
              revoked_at, updated_at) on app.sessions to tenantry_auth;
create policy sessions_refresh on app.sessions for all to tenantry_auth
    using (true) with check (true);

create function app.rotate_refresh_token(
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
    select u.role into v_role from app.users u where u.org_id = p_org_id and u.id = s.user_id;

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
        -- A concurrent refresh with the token just rotated: both callers keep a valid token.
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

revoke all on function app.rotate_refresh_token(uuid, uuid, bytea, bytea, interval) from public;
grant execute on function app.rotate_refresh_token(uuid, uuid, bytea, bytea, interval)
    to tenantry_app;

do $$
begin
    if not (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
        execute pg_catalog.format('grant tenantry_auth to %I', current_user);
    end if;
end
$$;
grant create on schema app to tenantry_auth;
alter function app.rotate_refresh_token(uuid, uuid, bytea, bytea, interval) owner to tenantry_auth;
revoke create on schema app from tenantry_auth;
do $$
begin
    if not (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
        execute pg_catalog.format('revoke tenantry_auth from %I', current_user);
    end if;
end
$$;
