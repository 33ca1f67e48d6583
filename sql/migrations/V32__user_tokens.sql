-- Password resets and email verification: single-use tokens sent by email to one user.
--
-- A token is `rst_` or `vrf_` + base64url(org id, token id, 32 random bytes)
-- (src/auth/email_token.rs); only the SHA-256 of the random part is stored. Redeeming runs as
-- tenantry_app in the token's organization: app.redeem_user_token (SECURITY INVOKER) sets
-- app.token_id, reads the token through the policy that shows a token its own row, compares
-- the hashes in constant time, marks it used (one UPDATE: of concurrent uses, one wins), and
-- enters the user's context (app.user_id, and app.role as the users table has it): the new
-- password or the verified address is then written under the ordinary policies (one's own
-- row).
--
-- Users get `email_verified_at`. Every user who existed before this migration was created by
-- an owner or admin, or signed up, without any verification: they stay unverified.

alter table app.users add column email_verified_at timestamptz;
grant update (email_verified_at) on app.users to tenantry_app;

create table app.user_tokens (
    org_id uuid not null default app.current_org_id(),
    id uuid not null,
    user_id uuid not null,
    kind text not null,
    -- For email verification: the address being verified (the user's, or the one they are
    -- changing to, which becomes theirs only once verified). Stored as its key.
    email text,
    token_hash bytea not null,
    expires_at timestamptz not null,
    used_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    created_by uuid,
    created_by_type text,
    updated_by uuid,
    updated_by_type text,
    constraint pk_user_tokens primary key (org_id, id),
    constraint fk_user_tokens_org_id foreign key (org_id)
        references app.organizations (id) on delete cascade,
    constraint fk_user_tokens_user foreign key (org_id, user_id)
        references app.users (org_id, id) on delete cascade,
    constraint ck_user_tokens_kind check (kind in ('password_reset', 'verify_email')),
    constraint ck_user_tokens_email check (
        (kind = 'verify_email') = (email is not null)
        and (email is null or (length(email) between 3 and 254 and email = app.text_key(email)))),
    constraint ck_user_tokens_token_hash check (octet_length(token_hash) = 32)
);

create index ix_user_tokens_user on app.user_tokens (org_id, user_id);

create trigger stamp_timestamps before insert or update on app.user_tokens
    for each row execute function app.stamp_timestamps();

alter table app.user_tokens enable row level security;
alter table app.user_tokens force row level security;

-- A user's tokens are their own: created in their context (a reset request enters it after
-- the pre-authentication lookup; sign-up and changing one's address are theirs) or by the
-- owners and admins who change their address, seen and used by them or by the token itself.
create policy user_tokens_select on app.user_tokens for select to tenantry_app
    using (org_id = app.current_org_id()
           and (user_id = app.current_user_id() or id = app.current_token_id()));
create policy user_tokens_insert on app.user_tokens for insert to tenantry_app
    with check (org_id = app.current_org_id()
                and (user_id = app.current_user_id()
                     or app.current_user_role() in ('owner', 'admin')));
create policy user_tokens_update on app.user_tokens for update to tenantry_app
    using (org_id = app.current_org_id()
           and (user_id = app.current_user_id() or id = app.current_token_id()))
    with check (org_id = app.current_org_id());
create policy user_tokens_delete on app.user_tokens for delete to tenantry_app
    using (org_id = app.current_org_id() and user_id = app.current_user_id());

grant select, insert on app.user_tokens to tenantry_app;
grant update (used_at) on app.user_tokens to tenantry_app;

-- Redeems token p_id of organization p_org_id, of kind p_kind, with the presented hash.
-- Returns the outcome: 'used_now' (then also the user and the token's email, and the user's
-- context is entered), or 'invalid' (no such token, another kind or another secret), 'used',
-- 'expired', 'user_gone'.
create function app.redeem_user_token(p_org_id uuid, p_id uuid, p_kind text, p_hash bytea)
    returns table (outcome text, user_id uuid, email text)
    language plpgsql volatile
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_org uuid := p_org_id;
    v_id uuid := p_id;
    v_hash bytea;
    v_kind text;
    v_user uuid;
    v_email text;
    v_expires timestamptz;
    v_used timestamptz;
    v_role text;
    v_found boolean;
begin
    execute format('set local app.org_id = %L', p_org_id);
    execute format('set local app.token_id = %L', p_id);
    select t.token_hash, t.kind, t.user_id, t.email, t.expires_at, t.used_at
      into v_hash, v_kind, v_user, v_email, v_expires, v_used
      from app.user_tokens t
     where t.org_id = v_org and t.id = v_id;
    v_found := found;
    if not (app.same_hash(coalesce(v_hash, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea),
                          p_hash) and v_found and v_kind = p_kind) then
        return query select 'invalid'::text, null::uuid, null::text;
        return;
    end if;
    if v_used is not null then
        return query select 'used'::text, null::uuid, null::text;
        return;
    end if;
    if v_expires <= now() then
        return query select 'expired'::text, null::uuid, null::text;
        return;
    end if;
    select u.role into v_role from app.users u
     where u.org_id = v_org and u.id = v_user and u.deleted_at is null;
    if v_role is null then
        return query select 'user_gone'::text, null::uuid, null::text;
        return;
    end if;
    update app.user_tokens t set used_at = now()
     where t.org_id = v_org and t.id = v_id and t.used_at is null;
    if not found then
        return query select 'used'::text, null::uuid, null::text;
        return;
    end if;
    execute format('set local app.user_id = %L', v_user);
    execute format('set local app.role = %L', v_role);
    return query select 'used_now'::text, v_user, v_email;
end
$$;
revoke all on function app.redeem_user_token(uuid, uuid, text, bytea) from public;
grant execute on function app.redeem_user_token(uuid, uuid, text, bytea) to tenantry_app;

------------------------------------------------------------------------------------------------
-- Retention (app.purge, V8 and V19): used and expired tokens, invitations that were accepted,
-- revoked or expired, and emails sent or given up, once older than the retention period.
------------------------------------------------------------------------------------------------
grant select (org_id, id, used_at, expires_at), delete on app.user_tokens to tenantry_maintenance;
create policy user_tokens_purge_read on app.user_tokens for select to tenantry_maintenance
    using (used_at is not null or expires_at < now());
create policy user_tokens_purge on app.user_tokens for delete to tenantry_maintenance
    using (used_at is not null or expires_at < now());

grant select (org_id, id, accepted_at, revoked_at, expires_at, updated_at), delete
    on app.invitations to tenantry_maintenance;
create policy invitations_purge_read on app.invitations for select to tenantry_maintenance
    using (accepted_at is not null or revoked_at is not null or expires_at < now());
create policy invitations_purge on app.invitations for delete to tenantry_maintenance
    using (accepted_at is not null or revoked_at is not null or expires_at < now());

grant select (org_id, id, status, updated_at), delete on app.outbound_emails
    to tenantry_maintenance;
create policy outbound_emails_purge_read on app.outbound_emails for select
    to tenantry_maintenance using (status <> 'queued');
create policy outbound_emails_purge on app.outbound_emails for delete
    to tenantry_maintenance using (status <> 'queued');

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

    delete from app.invitations i
     where i.accepted_at < p_before or i.revoked_at < p_before or i.expires_at < p_before;
    get diagnostics n = row_count;
    return query select 'invitations'::text, n;

    delete from app.user_tokens t where t.used_at < p_before or t.expires_at < p_before;
    get diagnostics n = row_count;
    return query select 'user_tokens'::text, n;

    delete from app.outbound_emails e where e.status <> 'queued' and e.updated_at < p_before;
    get diagnostics n = row_count;
    return query select 'outbound_emails'::text, n;
end
$$;

do $$
begin
    if not (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
        execute pg_catalog.format('revoke tenantry_maintenance from %I', current_user);
    end if;
end
$$;

select app.distribute_table('app.user_tokens');
