-- Who owns a project, and who may see, remove and restore removed rows.

------------------------------------------------------------------------------------------------
-- A project's new owner is a live user. Creates and reassignments named removed (soft-deleted)
-- users. A trigger now refuses them (ck_projects_owner_live, 422 on owner_id), and settles
-- races with a removal of that user: both take a transaction-scoped advisory lock on the user
-- (shared to name an owner, exclusive to remove), and the owner is read only once the lock is
-- held, so either the removal waits for the assignment to commit, or the assignment sees the
-- committed removal. The locks serialise request transactions (tenantry_app), which name one
-- owner at a time; bulk loads and maintenance by the owner take none (a lock per row would
-- exhaust the lock table). Not a foreign key on the user's liveness: Citus refuses ON UPDATE
-- CASCADE on keys that include the distribution column, and without the cascade a removal
-- could not leave the user's projects as they are. The user and project rows of one
-- organization live on one node, so the advisory lock is taken where both triggers run.
--
-- What happens to a removed user's projects: they stay, keep their owner_id (so the owner is
-- still shown), can still be edited, and owners and admins can reassign them to a live user.
-- Restoring the user changes nothing else: they may own projects again.
------------------------------------------------------------------------------------------------
create function app.require_live_owner() returns trigger
    language plpgsql
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if current_user = 'tenantry_app' then
        perform pg_advisory_xact_lock_shared(
            hashtextextended('tenantry.user:' || new.org_id::text || ':' || new.owner_id::text, 0));
    end if;
    if not exists (select 1 from app.users u
                   where u.org_id = new.org_id and u.id = new.owner_id and u.deleted_at is null)
    then
        raise exception 'a project''s owner must be a user who has not been removed'
            using errcode = '23514', constraint = 'ck_projects_owner_live';
    end if;
    return new;
end
$$;

create trigger require_live_owner before insert on app.projects
    for each row execute function app.require_live_owner();
create trigger require_live_owner_on_change before update of owner_id on app.projects
    for each row when (new.owner_id is distinct from old.owner_id)
    execute function app.require_live_owner();

create function app.lock_user_for_removal() returns trigger
    language plpgsql
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if current_user = 'tenantry_app' then
        perform pg_advisory_xact_lock(
            hashtextextended('tenantry.user:' || old.org_id::text || ':' || old.id::text, 0));
    end if;
    return new;
end
$$;

create trigger lock_user_for_removal before update of deleted_at on app.users
    for each row when (old.deleted_at is null and new.deleted_at is not null)
    execute function app.lock_user_for_removal();

revoke all on function app.require_live_owner(), app.lock_user_for_removal() from public;

------------------------------------------------------------------------------------------------
-- Removal, restore and removed rows: whoever may remove a row may restore it and see it while
-- it is removed; nobody else sees it.
--
--   users:    owners and admins remove, restore and see removed users (admins not owners';
--             the update policy and app.guard_role_change already say so).
--   projects: members remove, restore and see their own removed projects; owners and admins
--             any (the update policy already lets members update their own projects).
------------------------------------------------------------------------------------------------
drop policy users_select on app.users;
create policy users_select on app.users for select to tenantry_app
    using (org_id = app.current_org_id()
           and (deleted_at is null or app.current_user_role() in ('owner', 'admin')));

drop policy projects_select on app.projects;
create policy projects_select on app.projects for select to tenantry_app
    using (org_id = app.current_org_id()
           and (deleted_at is null
                or owner_id = app.current_user_id()
                or app.current_user_role() in ('owner', 'admin')));
