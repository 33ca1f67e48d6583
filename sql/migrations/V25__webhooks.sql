-- Webhooks: endpoints an organization registers, and the deliveries of its events to them,
-- signed per Standard Webhooks and sent by the relay (src/webhooks/).
--
-- Two tenant tables, like every other (forced RLS, keys led by org_id, composite foreign
-- keys). Owners and admins manage endpoints and read deliveries through tenantry_app; the
-- relay reads and writes them as tenantry_relay, a NOLOGIN NOBYPASSRLS role whose policies
-- are scoped by app.org_id exactly like tenantry_app's: the relay enters one organization per
-- transaction (a single-organization query, one shard on Citus), never all of them. The one
-- cross-organization read is app.webhook_due_orgs(), owned by tenantry_relay_scan, which sees
-- nothing but the organization ids that have work and returns nothing else.
--
-- Signing secrets must be usable for HMAC, so they are stored, not hashed. tenantry_app may
-- write them (creation, rotation) but holds no SELECT on them: no request can read a secret
-- back; only the relay's role reads them.

do $$
begin
    if not exists (select 1 from pg_catalog.pg_roles where rolname = 'tenantry_relay') then
        create role tenantry_relay nologin nosuperuser nobypassrls nocreatedb nocreaterole noinherit;
    end if;
exception when duplicate_object or unique_violation then
    null;
end
$$;
do $$
begin
    if not exists (select 1 from pg_catalog.pg_roles where rolname = 'tenantry_relay_scan') then
        create role tenantry_relay_scan nologin nosuperuser nobypassrls nocreatedb nocreaterole noinherit;
    end if;
exception when duplicate_object or unique_violation then
    null;
end
$$;
alter role tenantry_relay nologin nosuperuser nobypassrls;
alter role tenantry_relay_scan nologin nosuperuser nobypassrls;
grant usage on schema app to tenantry_relay, tenantry_relay_scan;
grant execute on function app.current_org_id() to tenantry_relay, tenantry_relay_scan;
-- The audit trigger runs when the relay disables a failing endpoint (no person acted: NULL).
grant execute on function app.current_user_id(), app.current_user_role(), app.current_api_key_id(),
    app.current_actor_type(), app.current_actor_id() to tenantry_relay;
-- The endpoints' checks run on the relay's updates too.
grant execute on function app.is_free_text(text) to tenantry_relay;

-- A delivery's id, made by the relay's fan-out in SQL: the first 48 bits of its event's id
-- (a UUIDv7: the event's time), then bits of a hash of (endpoint, event), with the version and
-- variant of a UUIDv7. Deliveries sort by their events' time, and the function is immutable
-- (Citus accepts no volatile function in a distributed INSERT ... SELECT).
create function app.delivery_id(p_endpoint_id uuid, p_event_id uuid) returns uuid
    language sql immutable strict parallel safe
    set search_path = pg_catalog, pg_temp
    as $$
select encode(
           set_bit(set_bit(set_bit(set_bit(set_bit(set_bit(
               overlay(decode(md5(p_endpoint_id::text || p_event_id::text), 'hex')
                       placing substring(uuid_send(p_event_id) from 1 for 6)
                       from 1 for 6),
               52, 1), 53, 1), 54, 1), 55, 0), 70, 0), 71, 1),
           'hex')::uuid
$$;
revoke all on function app.delivery_id(uuid, uuid) from public;
grant execute on function app.delivery_id(uuid, uuid) to tenantry_relay;

------------------------------------------------------------------------------------------------
-- Endpoints.
------------------------------------------------------------------------------------------------
create table app.webhook_endpoints (
    org_id uuid not null default app.current_org_id(),
    id uuid not null,
    -- An absolute http(s) URL without credentials or fragment (the service parses it; the
    -- relay checks the addresses its host resolves to before every delivery).
    url text not null,
    -- Event types (`user.created`), prefixes (`user.*`) or `*` for every type.
    event_types text[] not null,
    description text not null default '',
    -- Disabled by a person (`manual`) or by the relay after too many consecutive failures
    -- (`failing`); a disabled endpoint receives nothing.
    disabled_reason text,
    disabled_at timestamptz,
    -- 32 random bytes each; the API shows `whsec_` + base64 of the current one at creation and
    -- at rotation, never again.
    secret bytea not null,
    -- After a rotation, the replaced secret also signs deliveries until previous_secret_expires_at.
    previous_secret bytea,
    previous_secret_expires_at timestamptz,
    -- Failed attempts since the last success, kept by the relay.
    consecutive_failures integer not null default 0,
    -- The last event (by its organization's commit-order seq) the relay has fanned out to
    -- this endpoint; a new or re-enabled endpoint starts at the newest event.
    last_event_seq bigint not null default 0,
    -- One relay at a time delivers to an endpoint (which keeps its deliveries in commit
    -- order): the one whose claim holds this lease, renewed at each attempt. A relay that dies
    -- lets it expire; another takes over.
    relay_lease_until timestamptz,
    relay_claim_id uuid,
    version bigint not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    created_by uuid,
    created_by_type text,
    updated_by uuid,
    updated_by_type text,
    constraint pk_webhook_endpoints primary key (org_id, id),
    constraint fk_webhook_endpoints_org_id foreign key (org_id)
        references app.organizations (id) on delete cascade,
    constraint ck_webhook_endpoints_url check (
        length(url) between 1 and 2000 and url ~ '^https?://[^\s]+$'),
    constraint ck_webhook_endpoints_event_types check (
        cardinality(event_types) between 1 and 50
        and array_position(event_types, null) is null),
    constraint ck_webhook_endpoints_description check (length(description) <= 2000),
    constraint ck_webhook_endpoints_description_text check (app.is_free_text(description)),
    constraint ck_webhook_endpoints_disabled check (
        (disabled_reason is null) = (disabled_at is null)
        and (disabled_reason is null or disabled_reason in ('manual', 'failing'))),
    constraint ck_webhook_endpoints_secret check (octet_length(secret) = 32),
    constraint ck_webhook_endpoints_previous_secret check (
        (previous_secret is null) = (previous_secret_expires_at is null)
        and (previous_secret is null or octet_length(previous_secret) = 32))
);

-- The relay's bookkeeping (failures, the fan-out cursor) neither stamps the row nor bumps its
-- version: only what a person changes does.
create trigger stamp_timestamps
    before insert or update of url, event_types, description, disabled_reason, secret
    on app.webhook_endpoints for each row execute function app.stamp_timestamps();
create trigger bump_version
    before update of url, event_types, description, disabled_reason, secret
    on app.webhook_endpoints for each row execute function app.bump_version();

alter table app.webhook_endpoints enable row level security;
alter table app.webhook_endpoints force row level security;

create policy webhook_endpoints_select on app.webhook_endpoints for select to tenantry_app
    using (org_id = app.current_org_id() and app.current_user_role() in ('owner', 'admin'));
create policy webhook_endpoints_insert on app.webhook_endpoints for insert to tenantry_app
    with check (org_id = app.current_org_id() and app.current_user_role() in ('owner', 'admin'));
create policy webhook_endpoints_update on app.webhook_endpoints for update to tenantry_app
    using (org_id = app.current_org_id() and app.current_user_role() in ('owner', 'admin'))
    with check (org_id = app.current_org_id());
create policy webhook_endpoints_delete on app.webhook_endpoints for delete to tenantry_app
    using (org_id = app.current_org_id() and app.current_user_role() in ('owner', 'admin'));

-- No SELECT on the secrets: a request writes them and never reads them back.
grant select (org_id, id, url, event_types, description, disabled_reason, disabled_at,
              previous_secret_expires_at, consecutive_failures, last_event_seq, version,
              created_at, updated_at, created_by, created_by_type, updated_by, updated_by_type)
    on app.webhook_endpoints to tenantry_app;
-- INSERT on the table (Citus writes every column, defaults included, to the shard); the
-- trigger below resets what only rotations and the relay set.
grant insert on app.webhook_endpoints to tenantry_app;
grant update (url, event_types, description, disabled_reason, disabled_at, secret,
              previous_secret_expires_at, consecutive_failures, last_event_seq)
    on app.webhook_endpoints to tenantry_app;

-- A new endpoint starts clean, whatever an INSERT names. Rotation: a new secret moves the
-- replaced one to previous_secret, valid until the
-- previous_secret_expires_at the same update sets (none, or one in the past: the replaced
-- secret stops at once). The trigger reads the old secret, which tenantry_app cannot.
create function app.rotate_webhook_secret() returns trigger
    language plpgsql
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if tg_op = 'INSERT' then
        -- A new endpoint: enabled, one secret, no failures, not leased, version 1.
        new.previous_secret := null;
        new.previous_secret_expires_at := null;
        new.disabled_reason := null;
        new.disabled_at := null;
        new.consecutive_failures := 0;
        new.relay_lease_until := null;
        new.relay_claim_id := null;
        new.version := 1;
        return new;
    end if;
    if new.secret is distinct from old.secret then
        if new.previous_secret_expires_at > now() then
            new.previous_secret := old.secret;
        else
            new.previous_secret := null;
            new.previous_secret_expires_at := null;
        end if;
    elsif new.previous_secret is distinct from old.previous_secret then
        raise exception 'previous_secret follows a rotation only' using errcode = '42501';
    end if;
    return new;
end
$$;
revoke all on function app.rotate_webhook_secret() from public;
create trigger rotate_webhook_secret before insert or update on app.webhook_endpoints
    for each row execute function app.rotate_webhook_secret();
grant delete on app.webhook_endpoints to tenantry_app;

create policy webhook_endpoints_relay_select on app.webhook_endpoints for select to tenantry_relay
    using (org_id = app.current_org_id());
create policy webhook_endpoints_relay_update on app.webhook_endpoints for update to tenantry_relay
    using (org_id = app.current_org_id())
    with check (org_id = app.current_org_id());
grant select (org_id, id, url, event_types, disabled_reason, secret, previous_secret,
              previous_secret_expires_at, consecutive_failures, last_event_seq,
              relay_lease_until, relay_claim_id)
    on app.webhook_endpoints to tenantry_relay;
grant update (disabled_reason, disabled_at, consecutive_failures, last_event_seq,
              relay_lease_until, relay_claim_id)
    on app.webhook_endpoints to tenantry_relay;

------------------------------------------------------------------------------------------------
-- Deliveries: one per (endpoint, event). Its event's id is the `webhook-id` of every attempt,
-- so a retry (by the relay or through the API) carries the same id.
------------------------------------------------------------------------------------------------
create table app.webhook_deliveries (
    org_id uuid not null default app.current_org_id(),
    id uuid not null,
    endpoint_id uuid not null,
    event_id uuid not null,
    -- The event's commit-order position in its organization: deliveries of one endpoint go
    -- out in this order.
    event_seq bigint not null,
    event_type text not null,
    status text not null default 'pending',
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    last_attempt_at timestamptz,
    -- What the last attempt got: an HTTP status, or an error kind from a closed set, and the
    -- first bytes of the response body (at most 256 characters), the latency in ms.
    last_status_code integer,
    last_error text,
    last_response_snippet text,
    last_latency_ms integer,
    succeeded_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint pk_webhook_deliveries primary key (org_id, id),
    constraint fk_webhook_deliveries_org_id foreign key (org_id)
        references app.organizations (id) on delete cascade,
    constraint fk_webhook_deliveries_endpoint foreign key (org_id, endpoint_id)
        references app.webhook_endpoints (org_id, id) on delete cascade,
    constraint uq_webhook_deliveries_endpoint_event unique (org_id, endpoint_id, event_id),
    constraint ck_webhook_deliveries_status check (status in ('pending', 'succeeded', 'dead')),
    constraint ck_webhook_deliveries_last_error check (
        last_error is null or last_error in ('http_status', 'timeout', 'connect', 'refused_address',
                                             'invalid_url', 'request')),
    constraint ck_webhook_deliveries_snippet check (length(last_response_snippet) <= 256)
);

-- The relay's claim: an endpoint's pending deliveries in commit order.
create index ix_webhook_deliveries_pending on app.webhook_deliveries
    (org_id, endpoint_id, event_seq) where status = 'pending';
-- The API's list: an endpoint's deliveries, newest first.
create index ix_webhook_deliveries_endpoint on app.webhook_deliveries (org_id, endpoint_id, id);

create function app.stamp_delivery() returns trigger
    language plpgsql
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if tg_op = 'INSERT' then
        new.created_at := now();
    else
        new.created_at := old.created_at;
    end if;
    new.updated_at := now();
    return new;
end
$$;
revoke all on function app.stamp_delivery() from public;
create trigger stamp_delivery before insert or update on app.webhook_deliveries
    for each row execute function app.stamp_delivery();

alter table app.webhook_deliveries enable row level security;
alter table app.webhook_deliveries force row level security;

-- Owners and admins read deliveries and ask for a redelivery (an update to pending); the
-- relay creates and updates them. Deliveries go with their endpoint (cascade) or by retention.
create policy webhook_deliveries_select on app.webhook_deliveries for select to tenantry_app
    using (org_id = app.current_org_id() and app.current_user_role() in ('owner', 'admin'));
create policy webhook_deliveries_insert on app.webhook_deliveries for insert to tenantry_app
    with check (org_id = app.current_org_id() and false);
create policy webhook_deliveries_update on app.webhook_deliveries for update to tenantry_app
    using (org_id = app.current_org_id() and app.current_user_role() in ('owner', 'admin'))
    with check (org_id = app.current_org_id() and status = 'pending');
create policy webhook_deliveries_delete on app.webhook_deliveries for delete to tenantry_app
    using (org_id = app.current_org_id() and app.current_user_role() in ('owner', 'admin'));
grant select (org_id, id, endpoint_id, event_id, event_seq, event_type, status, attempts,
              next_attempt_at, last_attempt_at, last_status_code, last_error,
              last_response_snippet, last_latency_ms, succeeded_at, created_at, updated_at)
    on app.webhook_deliveries to tenantry_app;
grant update (status, next_attempt_at, attempts) on app.webhook_deliveries to tenantry_app;

create policy webhook_deliveries_relay_select on app.webhook_deliveries for select to tenantry_relay
    using (org_id = app.current_org_id());
create policy webhook_deliveries_relay_insert on app.webhook_deliveries for insert to tenantry_relay
    with check (org_id = app.current_org_id());
create policy webhook_deliveries_relay_update on app.webhook_deliveries for update to tenantry_relay
    using (org_id = app.current_org_id())
    with check (org_id = app.current_org_id());
grant select, insert on app.webhook_deliveries to tenantry_relay;
grant update (status, attempts, next_attempt_at, last_attempt_at, last_status_code, last_error, last_response_snippet, last_latency_ms, succeeded_at)
    on app.webhook_deliveries to tenantry_relay;

------------------------------------------------------------------------------------------------
-- Waking the relay: a delivery that becomes due (created, or set back to pending by a retry
-- request) notifies channel tenantry_webhooks with its organization's id. On Citus the
-- trigger runs on the worker holding the shard, whose notifications the relay does not hear;
-- its polling picks the work up there.
------------------------------------------------------------------------------------------------
create function app.notify_webhook_work() returns trigger
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if new.status = 'pending' and new.next_attempt_at <= now() then
        perform pg_catalog.pg_notify('tenantry_webhooks', new.org_id::text);
    end if;
    return null;
end
$$;
revoke all on function app.notify_webhook_work() from public;
create trigger notify_webhook_work after insert or update of status, next_attempt_at
    on app.webhook_deliveries
    for each row execute function app.notify_webhook_work();

------------------------------------------------------------------------------------------------
-- The relay's entry into one organization (after SET LOCAL ROLE tenantry_relay): SET LOCAL
-- app.org_id, which Citus forwards to the workers. Only tenantry_relay may call it.
------------------------------------------------------------------------------------------------
create function app.relay_enter(p_org_id uuid) returns void
    language plpgsql volatile
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if p_org_id is null then
        raise exception 'the relay enters an organization' using errcode = '22004';
    end if;
    execute format('set local app.org_id = %L', p_org_id);
end
$$;
revoke all on function app.relay_enter(uuid) from public;
grant execute on function app.relay_enter(uuid) to tenantry_relay;

------------------------------------------------------------------------------------------------
-- The relay's two cross-organization reads, for polling and metrics. Owned by
-- tenantry_relay_scan, which may read only these columns of pending deliveries: the first
-- returns organization ids, the second aggregates. Nothing else of an organization's data
-- leaves them.
------------------------------------------------------------------------------------------------
grant select (org_id, status, next_attempt_at, created_at)
    on app.webhook_deliveries to tenantry_relay_scan;
create policy webhook_deliveries_scan on app.webhook_deliveries for select to tenantry_relay_scan
    using (status = 'pending');

-- Organizations with a delivery due, at most p_limit.
create function app.webhook_due_orgs(p_limit integer) returns setof uuid
    language plpgsql stable security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    -- plpgsql, not SQL: Citus cannot plan a parameter of a SQL function.
    return query
    select o.org_id from (select d.org_id from app.webhook_deliveries d
                         where d.status = 'pending' and d.next_attempt_at <= now()
                         group by d.org_id) o
    limit p_limit;
end
$$;

-- Pending deliveries: how many, the oldest's creation, and the soonest next attempt (held
-- deliveries, at infinity, excluded).
create function app.webhook_backlog()
    returns table (pending bigint, oldest_created_at timestamptz, next_due_at timestamptz)
    language sql stable security definer
    set search_path = pg_catalog, pg_temp
    as $$
select count(*),
       min(d.created_at),
       min(case when d.next_attempt_at < 'infinity'::timestamptz then d.next_attempt_at end)
from app.webhook_deliveries d
where d.status = 'pending'
$$;

revoke all on function app.webhook_due_orgs(integer), app.webhook_backlog() from public;
grant execute on function app.webhook_due_orgs(integer), app.webhook_backlog() to tenantry_relay;
do $$
begin
    if not (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
        execute pg_catalog.format('grant tenantry_relay_scan to %I', current_user);
    end if;
end
$$;
grant create on schema app to tenantry_relay_scan;
alter function app.webhook_due_orgs(integer) owner to tenantry_relay_scan;
alter function app.webhook_backlog() owner to tenantry_relay_scan;
-- The notification trigger runs as a role that cannot bypass RLS, like every SECURITY DEFINER
-- function of the schema (it reads nothing but the new row).
alter function app.notify_webhook_work() owner to tenantry_relay_scan;
revoke create on schema app from tenantry_relay_scan;
do $$
begin
    if not (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
        execute pg_catalog.format('revoke tenantry_relay_scan from %I', current_user);
    end if;
end
$$;

select app.distribute_table('app.webhook_endpoints');
select app.distribute_table('app.webhook_deliveries');
