-- Trigger errors that keep their meaning on Citus. The last-owner and live-owner triggers raise
-- check violations naming a pseudo-constraint (ck_users_last_owner, ck_projects_owner_live),
-- which src/error.rs maps to 409 LAST_OWNER and 422 owner_id. On Citus these triggers fire on
-- the workers, and the error that reaches the service has an empty constraint field (as for
-- real constraints), while the detail arrives intact: the errors now name the pseudo-constraint
-- in their detail, `constraint "<name>"` as PostgreSQL writes it in messages, where the mapping
-- looks when the field is empty. Messages and bodies otherwise as in V7 and V14.

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
            using errcode = '23514', constraint = 'ck_users_last_owner',
                  detail = 'violates constraint "ck_users_last_owner"';
    end if;
    return null;
end
$$;

create or replace function app.require_live_owner() returns trigger
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
            using errcode = '23514', constraint = 'ck_projects_owner_live',
                  detail = 'violates constraint "ck_projects_owner_live"';
    end if;
    return new;
end
$$;
