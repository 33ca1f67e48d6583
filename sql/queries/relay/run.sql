-- The next deliveries of each claimed endpoint, in commit order: up to $3 per endpoint, the
-- due prefix of its pending deliveries (a delivery waiting for a retry stops the run: later
-- ones wait behind it), with their events. $1 org_id uuid, $2 endpoint ids uuid[],
-- $3 per-endpoint limit int8.
select r.id, r.endpoint_id, r.event_id, r.attempts,
       ev.type as event_type, ev.payload, ev.created_at as event_created_at
from unnest($2::uuid[]) as ep(id)
cross join lateral (
    select p.id, p.endpoint_id, p.event_id, p.event_seq, p.attempts,
           bool_and(p.next_attempt_at <= now()) over (order by p.event_seq) as due
    from (select d.id, d.endpoint_id, d.event_id, d.event_seq, d.attempts, d.next_attempt_at
          from app.webhook_deliveries d
          where d.org_id = $1 and d.endpoint_id = ep.id and d.status = 'pending'
          order by d.event_seq
          limit $3) p
) r
join app.events ev on ev.org_id = $1 and ev.id = r.event_id
where r.due
order by r.endpoint_id, r.event_seq
