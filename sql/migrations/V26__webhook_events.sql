-- Webhooks on top of the events outbox (V20): deliveries reference their event, the relay
-- reads events (of the organization it entered), the relay's polling and wake-up see new
-- events, and retention takes deliveries along with events.

-- Functions owned by tenantry_relay_scan and tenantry_maintenance are replaced below: a
-- migration role that is not a superuser holds those roles for the migration only.
do $$
begin
    if not (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
        execute pg_catalog.format('grant tenantry_relay_scan, tenantry_maintenance to %I', current_user);
    end if;
end
$$;

-- A delivery is of one event of its own organization; it goes with it.
alter table app.webhook_deliveries
    add constraint fk_webhook_deliveries_event foreign key (org_id, event_id)
        references app.events (org_id, id) on delete cascade;
create index ix_webhook_deliveries_event on app.webhook_deliveries (org_id, event_id);

-- The relay reads the events and the commit-order counter of the organization it entered.
create policy events_relay_select on app.events for select to tenantry_relay
    using (org_id = app.current_org_id());
grant select (org_id, id, seq, type, payload, created_at) on app.events to tenantry_relay;
create policy event_counters_relay_select on app.event_counters for select to tenantry_relay
    using (org_id = app.current_org_id());
grant select (org_id, last_seq) on app.event_counters to tenantry_relay;

------------------------------------------------------------------------------------------------
-- Polling: an organization also has work when one of its enabled endpoints has not yet been
-- fanned out to its newest event. tenantry_relay_scan sees the enabled endpoints' cursors and
-- the counters (ids and numbers only).
------------------------------------------------------------------------------------------------
grant select (org_id, disabled_reason, last_event_seq) on app.webhook_endpoints
    to tenantry_relay_scan;
create policy webhook_endpoints_scan on app.webhook_endpoints for select to tenantry_relay_scan
    using (disabled_reason is null);
grant select (org_id, last_seq) on app.event_counters to tenantry_relay_scan;
create policy event_counters_scan on app.event_counters for select to tenantry_relay_scan
    using (true);

create or replace function app.webhook_due_orgs(p_limit integer) returns setof uuid
    language plpgsql stable security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    -- plpgsql, not SQL: Citus cannot plan a parameter of a SQL function. Each branch groups by
    -- the distribution column, so Citus pushes the union down to the shards.
    return query
    select o.org_id from (
        select d.org_id from app.webhook_deliveries d
        where d.status = 'pending' and d.next_attempt_at <= now()
        group by d.org_id
        union
        select e.org_id from app.webhook_endpoints e
        join app.event_counters c on c.org_id = e.org_id
        where e.disabled_reason is null and e.last_event_seq < c.last_seq
        group by e.org_id
    ) o
    limit p_limit;
end
$$;

------------------------------------------------------------------------------------------------
-- Waking the relay: an event of an organization with an enabled endpoint notifies
-- tenantry_webhooks with the organization's id (at commit). Owned by tenantry_relay_scan,
-- which sees only whether an enabled endpoint exists. A notification that cannot be sent
-- (pg_notify revoked from the owner) is skipped: polling finds the work; the write goes on.
-- On Citus the trigger runs on the worker holding the shard, which the relay does not
-- listen to: polling (TENANTRY_WEBHOOK_POLL_MS) finds the work there.
------------------------------------------------------------------------------------------------
create function app.notify_webhook_event() returns trigger
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if exists (select 1 from app.webhook_endpoints e
               where e.org_id = new.org_id and e.disabled_reason is null) then
        begin
            perform pg_catalog.pg_notify('tenantry_webhooks', new.org_id::text);
        exception when insufficient_privilege then
            null;
        end;
    end if;
    return null;
end
$$;
revoke all on function app.notify_webhook_event() from public;
do $$
begin
    begin
        grant execute on function pg_catalog.pg_notify(text, text) to tenantry_relay_scan;
    exception when insufficient_privilege then
        null; -- PUBLIC's grant (the default) lets it notify; else polling only
    end;
end
$$;
grant create on schema app to tenantry_relay_scan;
alter function app.notify_webhook_event() owner to tenantry_relay_scan;
revoke create on schema app from tenantry_relay_scan;
-- Citus accepts triggers on distributed tables when told they are safe: this one reads the
-- same organization's rows (same shard) only.
select pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
create trigger notify_webhook_event after insert on app.events
    for each row execute function app.notify_webhook_event();

-- The delivery trigger (V25) skips a notification it cannot send, too.
create or replace function app.notify_webhook_work() returns trigger
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if new.status = 'pending' and new.next_attempt_at <= now() then
        begin
            perform pg_catalog.pg_notify('tenantry_webhooks', new.org_id::text);
        exception when insufficient_privilege then
            null;
        end;
    end if;
    return null;
end
$$;

------------------------------------------------------------------------------------------------
-- Retention: `tenantry purge` deletes deliveries created longer ago than
-- TENANTRY_EVENT_RETENTION_DAYS, before the events of that age (whose deletion would take
-- their deliveries along anyway).
------------------------------------------------------------------------------------------------
grant select (org_id, id, created_at), delete on app.webhook_deliveries to tenantry_maintenance;
create policy webhook_deliveries_purge_read on app.webhook_deliveries for select
    to tenantry_maintenance using (true);
create policy webhook_deliveries_purge on app.webhook_deliveries for delete
    to tenantry_maintenance using (true);

create or replace function app.purge_events(p_before timestamptz)
    returns table (kind text, purged bigint)
    language plpgsql volatile security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    n_deliveries bigint;
    n bigint;
begin
    delete from app.webhook_deliveries d where d.created_at < p_before;
    get diagnostics n_deliveries = row_count;

    delete from app.events e where e.created_at < p_before;
    get diagnostics n = row_count;
    return query select 'events'::text, n;
    return query select 'webhook_deliveries'::text, n_deliveries;
end
$$;

do $$
begin
    if not (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
        execute pg_catalog.format('revoke tenantry_relay_scan, tenantry_maintenance from %I', current_user);
    end if;
end
$$;
