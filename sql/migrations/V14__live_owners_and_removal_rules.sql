-- Who owns a project, and who may see, remove and restore removed rows.

------------------------------------------------------------------------------------------------
-- A project's new owner is a live user. Creates and reassignments named removed (soft-deleted)
-- users. The foreign key now includes the user's liveness, so the database settles it,
-- concurrent removals included: the key check locks the user row (FOR KEY SHARE), and a
-- removal changes `users.live`, a column of the referenced unique key, so it waits for (or is
-- waited on by) any transaction that names the user as an owner.
--
-- What happens to a removed user's projects: they stay, keep their owner_id (so the owner
-- is still shown), and owners and admins can reassign them to a live user. The cascade keeps
-- `projects.owner_live` equal to the owner's liveness; it is the database's bookkeeping,
-- never written by callers (the trigger below sets it on insert and on a change of owner).
-- Restoring the user makes their projects' owner live again; nothing else changes.
------------------------------------------------------------------------------------------------
alter table app.users add column live boolean generated always as (deleted_at is null) stored;
alter table app.users add constraint uq_users_org_id_id_live unique (org_id, id, live);

alter table app.projects add column owner_live boolean not null default true;
alter table app.projects drop constraint fk_projects_owner;
alter table app.projects add constraint fk_projects_owner
    foreign key (org_id, owner_id, owner_live) references app.users (org_id, id, live)
    on update cascade;

create function app.claim_live_owner() returns trigger
    language plpgsql
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if tg_op = 'INSERT' or new.owner_id is distinct from old.owner_id then
        -- Checked against users.live = true by fk_projects_owner.
        new.owner_live := true;
    end if;
    return new;
end
$$;

create trigger claim_live_owner before insert or update of owner_id on app.projects
    for each row execute function app.claim_live_owner();
revoke all on function app.claim_live_owner() from public;

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
