-- Case-insensitive keys have one definition, the database's: app.text_key. It orders, pages,
-- matches and deduplicates project names, and it is the stored form of emails. The service
-- never lower-cases or folds text itself: Rust's to_lowercase and PostgreSQL's lower()
-- disagree (Greek final sigma, dotted capital I, ...), and two definitions of one key made
-- keyset pagination by name loop forever and name prefixes miss.
--
-- text_key(t) = NFC(lower(NFC(t))): canonically equivalent spellings (precomposed "é" and
-- "e" + U+0301) get one key, letter case is ignored. lower() follows the database's LC_CTYPE;
-- the key is whatever this database computes, and everything that compares keys asks it.
create function app.text_key(p_text text) returns text
    language sql immutable strict parallel safe
    as $$ select pg_catalog.normalize(pg_catalog.lower(pg_catalog.normalize(p_text, 'NFC')), 'NFC') $$;

revoke all on function app.text_key(text) from public;
grant execute on function app.text_key(text) to tenantry_app, tenantry_auth;

------------------------------------------------------------------------------------------------
-- Projects: a stored key column. The list order (name_key, id), the keyset comparison
-- (name_key, id) > ($key, $id), the unique index among live projects and prefix matching
-- (starts_with(name_key, app.text_key($prefix))) all read it, and list queries return it so
-- that a cursor carries the database's own key, never one computed by the service.
------------------------------------------------------------------------------------------------
alter table app.projects
    add column name_key text generated always as (app.text_key(name)) stored,
    -- Cursors carry the key: bounding it bounds them (src/domain/cursor.rs, MAX_KEY_BYTES).
    -- A name of 200 characters has a key of at most 800 bytes unless normalization expands it.
    add constraint ck_projects_name_key check (pg_catalog.octet_length(name_key) <= 1024);

drop index app.uq_projects_org_id_name;
create unique index uq_projects_org_id_name on app.projects (org_id, name_key)
    where deleted_at is null;
drop index app.ix_projects_org_id_name;
create index ix_projects_org_id_name on app.projects (org_id, name_key, id);

------------------------------------------------------------------------------------------------
-- Emails: the stored email is its key (statements store app.text_key($email)), so the unique
-- index (org_id, email) is case-insensitive and log-in compares keys.
------------------------------------------------------------------------------------------------
alter table app.users drop constraint ck_users_email;
alter table app.users add constraint ck_users_email
    check (length(email) between 3 and 254 and email = app.text_key(email) and email like '_%@_%');

-- Log-in looks the user up by the key of the email it was given. Replacing tenantry_auth's
-- function needs its membership for a moment (as in V3).
do $$
begin
    if not (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
        execute pg_catalog.format('grant tenantry_auth to %I', current_user);
    end if;
end
$$;

create or replace function app.login_lookup(p_org_slug text, p_email text)
    returns table (org_id uuid, user_id uuid, password_hash text, role text)
    language plpgsql stable security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    return query
        select u.org_id, u.id, u.password_hash, u.role
        from app.organizations o
        join app.users u on u.org_id = o.id
        where o.slug = p_org_slug and u.email = app.text_key(p_email) and u.deleted_at is null;
end
$$;

do $$
begin
    if not (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
        execute pg_catalog.format('revoke tenantry_auth from %I', current_user);
    end if;
end
$$;
