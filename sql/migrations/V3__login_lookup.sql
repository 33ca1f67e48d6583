-- Log-in happens before a tenant is known, so RLS (rightly) shows the runtime role nothing.
-- Instead of an RLS-bypassing pool, one narrow SECURITY DEFINER function answers exactly one
-- question: "which user of organization <slug> has email <email>, and what is their hash?".
--
-- It is owned by tenantry_auth, which is NOBYPASSRLS too: it reads through policies that
-- exist for it alone and through column grants limited to what this function returns.
-- search_path is fixed, PUBLIC cannot execute it, and only tenantry_app may call it.

grant select (id, slug) on app.organizations to tenantry_auth;
grant select (org_id, id, email, password_hash, role) on app.users to tenantry_auth;

create policy organizations_login_lookup on app.organizations for select to tenantry_auth
    using (true);
create policy users_login_lookup on app.users for select to tenantry_auth
    using (true);

-- plpgsql rather than SQL: Citus runs parameterised plpgsql helpers on the right shard.
create function app.login_lookup(p_org_slug text, p_email text)
    returns table (org_id uuid, user_id uuid, password_hash text, role text)
    language plpgsql stable security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    return query
        select u.org_id, u.id, u.password_hash, u.role
        from app.organizations o
        join app.users u on u.org_id = o.id
        where o.slug = p_org_slug and u.email = p_email;
end
$$;

revoke all on function app.login_lookup(text, text) from public;
grant execute on function app.login_lookup(text, text) to tenantry_app;

-- Hand the function to tenantry_auth. A non-superuser migration owner must be able to act as
-- the new owner, and the new owner needs CREATE on the schema at that moment only.
do $$
begin
    if not (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
        execute pg_catalog.format('grant tenantry_auth to %I', current_user);
    end if;
end
$$;
grant create on schema app to tenantry_auth;
alter function app.login_lookup(text, text) owner to tenantry_auth;
revoke create on schema app from tenantry_auth;

-- And take the membership back: nobody may act as tenantry_auth, which reads every tenant's
-- login columns. (The pool usually logs in as the migration role in development.)
do $$
begin
    if not (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
        execute pg_catalog.format('revoke tenantry_auth from %I', current_user);
    end if;
end
$$;
