-- Organizations (the tenants) and their users.
--
-- Keys are Citus-ready: every key of a tenant table leads with org_id, so a row of one
-- organization can never reference a row of another, and the tables can be distributed by
-- org_id without schema changes. Constraint names are stable and never end in `_<digits>`:
-- src/error.rs derives the public error code from them.

create table app.organizations (
    id uuid not null,
    slug text not null,
    name text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint pk_organizations primary key (id),
    constraint ck_organizations_slug
        check (slug ~ '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$'),
    constraint ck_organizations_name
        check (length(name) between 1 and 200 and name = btrim(name))
);

-- Slugs name organizations at log-in, so they are unique across the whole service.
create unique index uq_organizations_slug on app.organizations (slug);

create trigger stamp_timestamps before insert or update on app.organizations
    for each row execute function app.stamp_timestamps();

create table app.users (
    org_id uuid not null default app.current_org_id(),
    id uuid not null,
    email text not null,
    display_name text not null,
    password_hash text not null,
    role text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint pk_users primary key (org_id, id),
    constraint fk_users_org_id foreign key (org_id)
        references app.organizations (id) on delete cascade,
    -- Emails are stored lower-cased, so the unique index below is case-insensitive.
    constraint ck_users_email
        check (length(email) between 3 and 254 and email = lower(email) and email like '_%@_%'),
    constraint ck_users_display_name
        check (length(display_name) between 1 and 200 and display_name = btrim(display_name)),
    constraint ck_users_role check (role in ('owner', 'admin', 'member')),
    constraint ck_users_password_hash check (password_hash like '$argon2id$%')
);

-- The same email may belong to several organizations, never twice to one. The database
-- settles concurrent sign-ups: one insert wins, the others get 23505 -> 409.
create unique index uq_users_org_id_email on app.users (org_id, email);

create trigger stamp_timestamps before insert or update on app.users
    for each row execute function app.stamp_timestamps();

-- Row-level security: forced, so even the table owner is subject to it (superusers and
-- BYPASSRLS roles are not; the runtime role is neither). Every policy compares with
-- app.current_org_id(), which is NULL without a tenant context: no row matches.
alter table app.organizations enable row level security;
alter table app.organizations force row level security;

create policy organizations_select on app.organizations for select to tenantry_app
    using (id = app.current_org_id());
-- Sign-up inserts the new organization inside a transaction whose context already names it.
create policy organizations_insert on app.organizations for insert to tenantry_app
    with check (id = app.current_org_id());
create policy organizations_update on app.organizations for update to tenantry_app
    using (id = app.current_org_id())
    with check (id = app.current_org_id());
create policy organizations_delete on app.organizations for delete to tenantry_app
    using (id = app.current_org_id());

alter table app.users enable row level security;
alter table app.users force row level security;

create policy users_select on app.users for select to tenantry_app
    using (org_id = app.current_org_id());
create policy users_insert on app.users for insert to tenantry_app
    with check (org_id = app.current_org_id());
create policy users_update on app.users for update to tenantry_app
    using (org_id = app.current_org_id())
    with check (org_id = app.current_org_id());
create policy users_delete on app.users for delete to tenantry_app
    using (org_id = app.current_org_id());

-- Grants: only what the API needs. Keys are never updatable; organizations cannot be
-- deleted through the API (no DELETE grant), their policy only keeps the catalog complete.
grant select, insert on app.organizations to tenantry_app;
grant update (name) on app.organizations to tenantry_app;
grant select, insert, delete on app.users to tenantry_app;
grant update (email, display_name, password_hash, role) on app.users to tenantry_app;
