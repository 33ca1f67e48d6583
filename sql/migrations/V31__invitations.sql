-- Invitations: an owner or admin invites an email address to join the organization with a
-- role; the invitation email carries a single-use token, and accepting it creates the user.
--
-- The token is `inv_` + base64url(org id, invitation id, 32 random bytes) (src/auth/email_token.rs):
-- only the SHA-256 of the random part is stored, and the organization and row come from the
-- token itself, so redeeming it reads one row of one organization (one shard on Citus).
-- Resending replaces the hash (the earlier link stops working) and the expiry.
--
-- Accepting runs as tenantry_app in the invitation's organization: app.redeem_invitation
-- (SECURITY INVOKER, like app.enter_key) sets app.org_id's companion app.token_id, reads the
-- invitation through the policy that shows a token its own row, compares the hashes in
-- constant time, marks the invitation accepted (one UPDATE: of 20 concurrent uses, one wins,
-- the others find it used), and enters the inviter's context (app.user_id, and app.role as
-- the users table has it now): the new user is then inserted under the ordinary policies, as
-- if the inviter added them, so an inviter who lost the right to grant that role (or left)
-- can no longer have it granted.

create function app.current_token_id() returns uuid
    language sql stable parallel safe
    as $$ select nullif(pg_catalog.current_setting('app.token_id', true), '')::uuid $$;
revoke all on function app.current_token_id() from public;
grant execute on function app.current_token_id() to tenantry_app;

create table app.invitations (
    org_id uuid not null default app.current_org_id(),
    id uuid not null,
    -- Stored as its key (app.text_key), the form users.email has.
    email text not null,
    role text not null,
    token_hash bytea not null,
    expires_at timestamptz not null,
    invited_by uuid not null,
    accepted_at timestamptz,
    accepted_user_id uuid,
    revoked_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    created_by uuid,
    created_by_type text,
    updated_by uuid,
    updated_by_type text,
    constraint pk_invitations primary key (org_id, id),
    constraint fk_invitations_org_id foreign key (org_id)
        references app.organizations (id) on delete cascade,
    constraint fk_invitations_invited_by foreign key (org_id, invited_by)
        references app.users (org_id, id) on delete cascade,
    constraint ck_invitations_email
        check (length(email) between 3 and 254 and email = app.text_key(email) and email like '_%@_%'),
    constraint ck_invitations_email_text check (app.is_identity_text(email)),
    constraint ck_invitations_role check (role in ('owner', 'admin', 'member')),
    constraint ck_invitations_token_hash check (octet_length(token_hash) = 32)
);

-- One pending invitation per address and organization (an expired one still counts until it
-- is revoked, resent or accepted: the list shows it as expired).
create unique index uq_invitations_org_id_email on app.invitations (org_id, email)
    where accepted_at is null and revoked_at is null;
create trigger stamp_timestamps before insert or update on app.invitations
    for each row execute function app.stamp_timestamps();

alter table app.invitations enable row level security;
alter table app.invitations force row level security;

-- Owners and admins see and manage invitations (admins those for admins and members only);
-- a token sees and accepts its own invitation.
create policy invitations_select on app.invitations for select to tenantry_app
    using (org_id = app.current_org_id()
           and (app.current_user_role() in ('owner', 'admin') or id = app.current_token_id()));
create policy invitations_insert on app.invitations for insert to tenantry_app
    with check (org_id = app.current_org_id()
                and invited_by = app.current_user_id()
                and (app.current_user_role() = 'owner'
                     or (app.current_user_role() = 'admin' and role <> 'owner')));
create policy invitations_update on app.invitations for update to tenantry_app
    using (org_id = app.current_org_id()
           and (app.current_user_role() = 'owner'
                or (app.current_user_role() = 'admin' and role <> 'owner')
                or id = app.current_token_id()))
    with check (org_id = app.current_org_id());
create policy invitations_delete on app.invitations for delete to tenantry_app
    using (org_id = app.current_org_id() and app.current_user_role() = 'owner');

grant select, insert on app.invitations to tenantry_app;
grant update (token_hash, expires_at, accepted_at, accepted_user_id, revoked_at)
    on app.invitations to tenantry_app;

-- Redeems invitation p_id of organization p_org_id with the presented hash, for the new user
-- p_user_id. Returns the outcome: 'accepted' (then also email and role, and the inviter's
-- context is entered), or 'invalid' (no such invitation, or another secret), 'revoked',
-- 'accepted_before', 'expired', 'inviter_gone'.
create function app.redeem_invitation(p_org_id uuid, p_id uuid, p_hash bytea, p_user_id uuid)
    returns table (outcome text, email text, role text)
    language plpgsql volatile
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_org uuid := p_org_id;
    v_id uuid := p_id;
    v_hash bytea;
    v_email text;
    v_role text;
    v_inviter uuid;
    v_inviter_role text;
    v_expires timestamptz;
    v_accepted timestamptz;
    v_revoked timestamptz;
    v_found boolean;
begin
    execute format('set local app.org_id = %L', p_org_id);
    execute format('set local app.token_id = %L', p_id);
    select i.token_hash, i.email, i.role, i.invited_by, i.expires_at, i.accepted_at, i.revoked_at
      into v_hash, v_email, v_role, v_inviter, v_expires, v_accepted, v_revoked
      from app.invitations i
     where i.org_id = v_org and i.id = v_id;
    v_found := found;
    if not (app.same_hash(coalesce(v_hash, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea),
                          p_hash) and v_found) then
        return query select 'invalid'::text, null::text, null::text;
        return;
    end if;
    if v_revoked is not null then
        return query select 'revoked'::text, null::text, null::text;
        return;
    end if;
    if v_accepted is not null then
        return query select 'accepted_before'::text, null::text, null::text;
        return;
    end if;
    if v_expires <= now() then
        return query select 'expired'::text, null::text, null::text;
        return;
    end if;
    select u.role into v_inviter_role from app.users u
     where u.org_id = v_org and u.id = v_inviter and u.deleted_at is null;
    if v_inviter_role is null then
        return query select 'inviter_gone'::text, null::text, null::text;
        return;
    end if;
    -- The single use: a concurrent redemption waits for this row, then finds it accepted.
    update app.invitations i
       set accepted_at = now(), accepted_user_id = p_user_id
     where i.org_id = v_org and i.id = v_id and i.accepted_at is null and i.revoked_at is null;
    if not found then
        return query select 'accepted_before'::text, null::text, null::text;
        return;
    end if;
    execute format('set local app.user_id = %L', v_inviter);
    execute format('set local app.role = %L', v_inviter_role);
    return query select 'accepted'::text, v_email, v_role;
end
$$;
revoke all on function app.redeem_invitation(uuid, uuid, bytea, uuid) from public;
grant execute on function app.redeem_invitation(uuid, uuid, bytea, uuid) to tenantry_app;

select app.distribute_table('app.invitations');
