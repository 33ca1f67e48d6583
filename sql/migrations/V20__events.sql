-- Events: the transactional outbox and the audit log. Every change a tenant makes writes one
-- row here, in the same transaction as the change: nothing is recorded for a change that
-- rolled back, and nothing committed lacks its event.
--
-- CONTRACT (for readers of the table: GET /v1/events, the webhook relay)
--
--   app.events (org_id, id, seq, type, subject_id, actor_type, actor_id, request_id, payload,
--               created_at), primary key (org_id, id), unique (org_id, seq).
--   - id: UUIDv7 made by the service; the public id of the event (a webhook's `webhook-id`).
--   - seq: the organization's commit order, 1, 2, 3, ... without reuse. Read events in seq
--     order and keep the last seq seen as the cursor: `seq > last` never misses an event
--     committed later (see "Commit order" below). Gaps are possible only if a transaction
--     that took a seq rolled back after it (the counter's update rolls back with it, so in
--     practice seqs are dense).
--   - type: `<resource>.<verb>` (user.created, project.deleted, ...); the service's
--     EventType is the one list.
--   - subject_id: the id of the resource the event is about.
--   - actor_type/actor_id: who acted ('user' or 'api_key'; both NULL when the service acted
--     by itself, as the webhook relay does, V27), stamped from the transaction's
--     context by app.current_actor_type()/app.current_actor_id() (V19) in the trigger
--     app.stamp_event, never by the caller.
--   - request_id: the HTTP request's id (X-Request-Id), NULL outside a request.
--   - payload: the resource as the API returns it (never a secret or a hash).
--   - created_at: the transaction's time (now(), stamped by app.stamp_event), so it equals
--     the resource's updated_at.
--
--   Writing: only through app.emit_event(org_id, id, type, subject_id, request_id, payload),
--   which the service sends last, pipelined with COMMIT (no extra round trip). It returns the
--   event's seq.
--
--   Reading: tenantry_app reads events of its organization when the caller is an owner or an
--   admin (a person or an admin key). Nobody updates an event; `tenantry purge` deletes those
--   older than TENANTRY_EVENT_RETENTION_DAYS (app.purge_events).
--
-- Commit order without a visibility gap. Ids and timestamps are taken before commit, so a
-- consumer that reads "everything after the last id" can skip an event whose transaction
-- commits after a later one's. Here each organization has one counter row,
-- app.event_counters(org_id, last_seq). app.emit_event increments it and uses the new value as
-- the event's seq; the row lock this takes is held until COMMIT. A second transaction of the
-- same organization that emits an event waits for that lock until the first has committed
-- (its rows are visible by then: PostgreSQL releases a transaction's locks after making it
-- visible), and only then gets the next seq. So within an organization events become visible
-- in seq order: once a reader sees seq n, every seq below n is visible too (or rolled back).
-- No xid or snapshot function is involved (they are per node on Citus): the counter row lives
-- in the organization's shard, beside its events.
-- The lock window is short because the service writes the event last, in the same pipeline
-- as COMMIT: the counter is locked for the time the server takes to run the insert and
-- commit, not for the request. Transactions of different organizations never wait for each
-- other. The cost: one organization's event-writing transactions commit one after another.
------------------------------------------------------------------------------------------------

create table app.event_counters (
    org_id uuid not null default app.current_org_id(),
    last_seq bigint not null,
    constraint pk_event_counters primary key (org_id),
    constraint fk_event_counters_org_id foreign key (org_id)
        references app.organizations (id) on delete cascade,
    constraint ck_event_counters_last_seq check (last_seq > 0)
);

alter table app.event_counters enable row level security;
alter table app.event_counters force row level security;

-- Only app.emit_event touches the counter, as the runtime role, in the caller's organization.
create policy event_counters_select on app.event_counters for select to tenantry_app
    using (org_id = app.current_org_id());
create policy event_counters_insert on app.event_counters for insert to tenantry_app
    with check (org_id = app.current_org_id());
create policy event_counters_update on app.event_counters for update to tenantry_app
    using (org_id = app.current_org_id())
    with check (org_id = app.current_org_id());
-- No DELETE grant: the policy keeps the catalog complete and matches no row.
create policy event_counters_delete on app.event_counters for delete to tenantry_app
    using (org_id = app.current_org_id() and false);

grant select (org_id, last_seq), insert (org_id, last_seq), update (last_seq)
    on app.event_counters to tenantry_app;

create table app.events (
    org_id uuid not null default app.current_org_id(),
    id uuid not null,
    seq bigint not null,
    type text not null,
    subject_id uuid not null,
    actor_type text default app.current_actor_type(),
    actor_id uuid default app.current_actor_id(),
    request_id text,
    payload jsonb not null,
    created_at timestamptz not null default now(),
    constraint pk_events primary key (org_id, id),
    constraint uq_events_org_id_seq unique (org_id, seq),
    constraint fk_events_org_id foreign key (org_id)
        references app.organizations (id) on delete cascade,
    constraint ck_events_seq check (seq > 0),
    constraint ck_events_type check (type ~ '^[a-z][a-z_]*\.[a-z][a-z_]*$' and length(type) <= 64),
    constraint ck_events_actor_type check (actor_type in ('user', 'api_key')),
    -- No actor (both NULL) only for what the service does by itself: the webhook relay
    -- disabling a failing endpoint (V27). Every request has an actor.
    constraint ck_events_actor check ((actor_type is null) = (actor_id is null)),
    constraint ck_events_request_id check (length(request_id) between 1 and 128),
    constraint ck_events_payload check (jsonb_typeof(payload) = 'object')
);

-- The filter on a subject ("what happened to this project"), in commit order.
create index ix_events_org_id_subject_id_seq on app.events (org_id, subject_id, seq);

alter table app.events enable row level security;
alter table app.events force row level security;

-- Owners and admins (people or admin keys) read the organization's events; members do not
-- (an event names every actor and carries whole resources).
create policy events_select on app.events for select to tenantry_app
    using (org_id = app.current_org_id() and app.current_user_role() in ('owner', 'admin'));
-- Anyone who changes something records it; the actor is the transaction's (app.stamp_event
-- sets it, and the policy checks it), whatever a buggy caller would claim.
create policy events_insert on app.events for insert to tenantry_app
    with check (org_id = app.current_org_id()
                and actor_type = app.current_actor_type()
                and actor_id = app.current_actor_id());
-- Events are immutable: no UPDATE or DELETE grant, and these policies match no row.
create policy events_update on app.events for update to tenantry_app
    using (org_id = app.current_org_id() and false)
    with check (org_id = app.current_org_id() and false);
create policy events_delete on app.events for delete to tenantry_app
    using (org_id = app.current_org_id() and false);

-- INSERT on the whole row: Citus evaluates column defaults on the coordinator and sends every
-- column to the shard, where a column-level grant would refuse the defaulted ones. The actor
-- and the time are stamped by this trigger instead, whatever the statement says.
grant select, insert on app.events to tenantry_app;

create function app.stamp_event() returns trigger
    language plpgsql
    set search_path = pg_catalog, pg_temp
    as $$
begin
    -- In a tenant transaction there is always an actor. Without one (the owner seeding or
    -- repairing data by hand) the row is kept as written; tenantry_app without an actor is
    -- refused by the insert policy.
    if app.current_actor_id() is not null then
        new.actor_type := app.current_actor_type();
        new.actor_id := app.current_actor_id();
        new.created_at := now();
    end if;
    return new;
end
$$;
revoke all on function app.stamp_event() from public;

create trigger stamp_event before insert on app.events
    for each row execute function app.stamp_event();

------------------------------------------------------------------------------------------------
-- app.emit_event: the one way to write an event. SECURITY INVOKER (it runs as tenantry_app,
-- under RLS). Both statements are routed by the plpgsql variable v_org, so on Citus each goes
-- to the organization's shard. The counter is taken with an upsert: the first event of an
-- organization creates its row (concurrent first events wait on the unique key, then update).
------------------------------------------------------------------------------------------------
create function app.emit_event(p_org_id uuid, p_id uuid, p_type text, p_subject_id uuid,
                               p_request_id text, p_payload jsonb) returns bigint
    language plpgsql volatile
    set search_path = pg_catalog, pg_temp
    as $$
declare
    v_org uuid := p_org_id;
    v_seq bigint;
begin
    if v_org is distinct from app.current_org_id() then
        raise exception 'an event belongs to the organization of the transaction'
            using errcode = '42501';
    end if;
    insert into app.event_counters as c (org_id, last_seq) values (v_org, 1)
        on conflict (org_id) do update set last_seq = c.last_seq + 1
        returning c.last_seq into v_seq;
    insert into app.events (org_id, id, seq, type, subject_id, request_id, payload)
        values (v_org, p_id, v_seq, p_type, p_subject_id, nullif(p_request_id, ''), p_payload);
    return v_seq;
end
$$;

revoke all on function app.emit_event(uuid, uuid, text, uuid, text, jsonb) from public;
grant execute on function app.emit_event(uuid, uuid, text, uuid, text, jsonb) to tenantry_app;

------------------------------------------------------------------------------------------------
-- Retention: `tenantry purge` deletes events older than TENANTRY_EVENT_RETENTION_DAYS through
-- app.purge_events, owned by tenantry_maintenance like app.purge (V8). Later outbox tables
-- (webhook deliveries) add their step to this function.
------------------------------------------------------------------------------------------------
grant select (org_id, id, created_at), delete on app.events to tenantry_maintenance;
create policy events_purge_read on app.events for select to tenantry_maintenance
    using (true);
create policy events_purge on app.events for delete to tenantry_maintenance
    using (true);

create function app.purge_events(p_before timestamptz)
    returns table (kind text, purged bigint)
    language plpgsql volatile security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    n bigint;
begin
    delete from app.events e where e.created_at < p_before;
    get diagnostics n = row_count;
    return query select 'events'::text, n;
end
$$;

revoke all on function app.purge_events(timestamptz) from public;
do $$
begin
    execute pg_catalog.format('grant execute on function app.purge_events(timestamptz) to %I',
                              current_user);
    if not (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
        execute pg_catalog.format('grant tenantry_maintenance to %I', current_user);
    end if;
end
$$;
grant create on schema app to tenantry_maintenance;
alter function app.purge_events(timestamptz) owner to tenantry_maintenance;
revoke create on schema app from tenantry_maintenance;
do $$
begin
    if not (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
        execute pg_catalog.format('revoke tenantry_maintenance from %I', current_user);
    end if;
end
$$;

select app.distribute_table('app.event_counters');
select app.distribute_table('app.events');
