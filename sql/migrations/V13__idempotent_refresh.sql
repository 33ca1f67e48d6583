-- Refresh inside the grace window is idempotent.
--
-- Until now a presentation of the token just replaced, inside the grace window, added one more
-- current token (at most four): the fifth such presentation counted as reuse and revoked the
-- session, logging out a user with several tabs open. The rule is now:
--
--   * presenting the current token rotates: its successor becomes the only current token;
--   * presenting the token just replaced, within the grace window of that rotation (counted
--     from the rotation, not extended by presentations), returns the same successor again,
--     however often and however concurrently: nothing else changes;
--   * presenting any other replaced token (or the replaced one after the window, or once its
--     successor has itself been exchanged) is reuse and revokes the session (RFC 9700 4.14.2).
--
-- The service derives a successor deterministically from the presented token's secret with a
-- server-side key (src/auth/refresh.rs), so no list of current tokens is needed:
-- `current_hashes` holds one hash. A grace presentation whose successor is not the current
-- token (the signing key changed within the window) is refused without revoking anything.
-- The session row stays locked for the whole decision: concurrent presentations serialise.
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
    elsif p_presented = s.last_retired and s.rotated_at > now() - p_grace then
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
