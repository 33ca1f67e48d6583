-- Creates the deliveries of one organization's new events: for each enabled endpoint (locked,
-- skipped if another relay is fanning out to it), one delivery per event after its cursor
-- (last_event_seq) whose type its filters match (`*`, the type, or `<resource>.*`: the rule of
-- domain::webhooks::matches), at most $2 events per endpoint; then moves each cursor past the
-- events read. Commit order makes `seq > cursor` complete (see the events migration).
-- $1 org_id uuid, $2 events per endpoint int8. Rows: one per endpoint advanced
-- (endpoint id, deliveries created).
with eps as (
    select e.id, e.event_types, e.last_event_seq
    from app.webhook_endpoints e
    where e.org_id = $1 and e.disabled_reason is null
      and e.last_event_seq < (select c.last_seq from app.event_counters c where c.org_id = $1)
    for update of e skip locked
), batch as (
    select eps.id as endpoint_id, ev.id as event_id, ev.seq, ev.type,
           exists (select 1 from unnest(eps.event_types) f
                   where f = '*' or f = ev.type
                      or (right(f, 2) = '.*' and starts_with(ev.type, left(f, -1)))) as wanted
    from eps
    cross join lateral (
        select v.id, v.seq, v.type from app.events v
        where v.org_id = $1 and v.seq > eps.last_event_seq
        order by v.seq
        limit $2
    ) ev
), inserted as (
    insert into app.webhook_deliveries (org_id, id, endpoint_id, event_id, event_seq, event_type)
    select $1, app.delivery_id(b.endpoint_id, b.event_id), b.endpoint_id, b.event_id, b.seq, b.type
    from batch b
    where b.wanted
    order by b.seq
    on conflict on constraint uq_webhook_deliveries_endpoint_event do nothing
    returning endpoint_id
), advanced as (
    update app.webhook_endpoints e
    set last_event_seq = m.max_seq
    from (select endpoint_id, max(seq) as max_seq from batch group by endpoint_id) m
    where e.org_id = $1 and e.id = m.endpoint_id
    returning e.id
)
select a.id as endpoint_id, (select count(*) from inserted i where i.endpoint_id = a.id) as created
from advanced a
