-- The webhook relay records what it does by itself: disabling an endpoint that failed too
-- often records `webhook_endpoint.disabled`, in the same transaction as the change, with the
-- endpoint as the API returns it and no actor (no person or key acted; the endpoint's
-- updated_by is NULL for the same reason).
--
-- tenantry_relay writes the event through app.emit_event, like the request role: it takes the
-- organization's counter (the commit order) and inserts the row, both under policies scoped
-- to the organization the relay entered. app.stamp_event clears any actor the relay would
-- write and stamps the time.

create policy events_relay_insert on app.events for insert to tenantry_relay
    with check (org_id = app.current_org_id());
-- INSERT on the whole row, as for tenantry_app (Citus sends every column to the shard).
grant insert on app.events to tenantry_relay;

create policy event_counters_relay_insert on app.event_counters for insert to tenantry_relay
    with check (org_id = app.current_org_id());
create policy event_counters_relay_update on app.event_counters for update to tenantry_relay
    using (org_id = app.current_org_id())
    with check (org_id = app.current_org_id());
grant insert (org_id, last_seq), update (last_seq) on app.event_counters to tenantry_relay;

grant execute on function app.emit_event(uuid, uuid, text, uuid, text, jsonb) to tenantry_relay;

-- The event's payload is the endpoint as the API shows it: the relay reads those columns too.
grant select (description, disabled_at, version, created_at, updated_at, created_by,
              created_by_type, updated_by, updated_by_type)
    on app.webhook_endpoints to tenantry_relay;

create or replace function app.stamp_event() returns trigger
    language plpgsql
    set search_path = pg_catalog, pg_temp
    as $$
begin
    -- In a tenant transaction there is always an actor. The relay acts by itself: no actor,
    -- whatever its statement says. Without either (the owner seeding or repairing data by
    -- hand) the row is kept as written; tenantry_app without an actor is refused by the insert
    -- policy.
    if app.current_actor_id() is not null then
        new.actor_type := app.current_actor_type();
        new.actor_id := app.current_actor_id();
        new.created_at := now();
    elsif current_user = 'tenantry_relay' then
        new.actor_type := null;
        new.actor_id := null;
        new.created_at := now();
    end if;
    return new;
end
$$;
