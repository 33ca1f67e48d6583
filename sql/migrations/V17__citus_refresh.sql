-- Refresh on Citus. app.rotate_refresh_token trimmed the list of retired hashes with an array
-- slice inside its UPDATE (`(s.retired_hashes || p_presented)[greatest(1, ...):]`). Citus 13.2
-- crashes the coordinator while deparsing an array slice with parameters for a shard, so the
-- trimmed list is now computed in plpgsql first and the UPDATE sets the value. And the grace
-- window is measured with clock_timestamp(): with now() (the transaction's start), a refresh
-- that began just before a concurrent rotation and waited for its lock saw that rotation as
-- inside even a window of 0, and succeeded too. Otherwise this is V13's function unchanged, and
-- behaves the same on a single server.
--
-- Replacing tenantry_auth's function needs its membership for a moment (as in V3 and V7).
do $$
begin
    if not (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
        execute pg_catalog.format('grant tenantry_auth to %I', current_user);
    end if;
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
    v_retired bytea[];
    v_clock timestamptz;
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
    -- The clock is read once the row lock is held (after any rotation this call waited for),
    -- and into a variable: Citus refuses volatile functions inside an UPDATE of a distributed
    -- table.
    v_clock := clock_timestamp();

    if p_presented = any (s.current_hashes) then
        v_retired := (s.retired_hashes || p_presented)[greatest(1, cardinality(s.retired_hashes) - 62):];
        update app.sessions x
           set current_hashes = array[p_next],
               retired_hashes = v_retired,
               last_retired = p_presented,
               rotated_at = v_clock,
               last_used_at = now()
         where x.org_id = p_org_id and x.id = p_session_id;
        return query select 'rotated'::text, s.user_id, v_role, s.expires_at;
    -- The grace window is measured on the clock, not from this transaction's start: a refresh
    -- that began before the rotation it waited for must not see itself inside a window of 0.
    elsif p_grace > interval '0' and p_presented = s.last_retired
          and s.rotated_at > v_clock - p_grace then
        if p_next = any (s.current_hashes) then
            -- The same successor again: the caller hands out the token already current.
            update app.sessions x set last_used_at = now()
             where x.org_id = p_org_id and x.id = p_session_id;
            return query select 'rotated'::text, s.user_id, v_role, s.expires_at;
        else
            return query select 'invalid'::text, null::uuid, null::text, null::timestamptz;
        end if;
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
