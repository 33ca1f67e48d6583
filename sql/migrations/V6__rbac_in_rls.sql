-- Roles, enforced by the database as well as by the service. The transaction's role
-- (`app.role`) is set by app.authorize_session from the users table, not from the token.
--
--   member: reads the organization and its users, edits itself (not its role).
--   admin:  also adds, edits and removes members and admins.
--   owner:  everything, including owners, roles and the organization itself.
--
-- A member's transaction therefore cannot touch another user's row even with hand-written
-- SQL, and the last owner can be neither demoted nor removed, even by concurrent requests.

drop policy users_insert on app.users;
create policy users_insert on app.users for insert to tenantry_app
    with check (org_id = app.current_org_id()
                and (app.current_user_role() = 'owner'
                     or (app.current_user_role() = 'admin' and role <> 'owner')));

drop policy users_update on app.users;
create policy users_update on app.users for update to tenantry_app
    using (org_id = app.current_org_id()
           and (id = app.current_user_id()
                or app.current_user_role() = 'owner'
                or (app.current_user_role() = 'admin' and role <> 'owner')))
    with check (org_id = app.current_org_id()
                and (role <> 'owner' or app.current_user_role() = 'owner'));

drop policy users_delete on app.users;
create policy users_delete on app.users for delete to tenantry_app
    using (org_id = app.current_org_id()
           and (app.current_user_role() = 'owner'
                or (app.current_user_role() = 'admin' and role <> 'owner')));

drop policy organizations_update on app.organizations;
create policy organizations_update on app.organizations for update to tenantry_app
    using (id = app.current_org_id() and app.current_user_role() = 'owner')
    with check (id = app.current_org_id());

-- Role changes: never one's own, only by owners and admins, and only owners touch the owner
-- role (the policies above already keep admins away from owners' rows).
create function app.guard_role_change() returns trigger
    language plpgsql
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if new.role is distinct from old.role and current_user = 'tenantry_app' then
        if new.id = app.current_user_id() then
            raise exception 'nobody changes their own role' using errcode = '42501';
        end if;
        if app.current_user_role() is distinct from 'owner'
           and (app.current_user_role() is distinct from 'admin' or 'owner' in (old.role, new.role)) then
            raise exception 'this role change needs an owner' using errcode = '42501';
        end if;
    end if;
    return new;
end
$$;

create trigger guard_role_change before update of role on app.users
    for each row execute function app.guard_role_change();

-- The last owner stays. Owner changes of one organization serialise on a transaction-scoped
-- advisory lock, so two concurrent demotions cannot both see "another owner" remaining.
-- The error names the pseudo-constraint ck_users_last_owner (409 LAST_OWNER).
create function app.keep_an_owner() returns trigger
    language plpgsql
    set search_path = pg_catalog, pg_temp
    as $$
begin
    perform pg_advisory_xact_lock(hashtextextended('tenantry.owners:' || old.org_id::text, 0));
    if exists (select 1 from app.organizations o where o.id = old.org_id)
       and not exists (select 1 from app.users u where u.org_id = old.org_id and u.role = 'owner')
    then
        raise exception 'an organization must keep at least one owner'
            using errcode = '23514', constraint = 'ck_users_last_owner';
    end if;
    return null;
end
$$;

create trigger keep_an_owner after update of role or delete on app.users
    for each row when (old.role = 'owner') execute function app.keep_an_owner();

revoke all on function app.guard_role_change(), app.keep_an_owner() from public;
