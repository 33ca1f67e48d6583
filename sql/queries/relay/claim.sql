-- Claims up to $4 deliveries of one organization that are due: for each enabled endpoint,
-- only its oldest pending delivery (commit order: a later event waits until the earlier one
-- succeeds or dies), skipping rows another relay is claiming (SKIP LOCKED) or holds (an
-- unexpired lease). Each claimed row is leased for $2 seconds under claim $3 and counts an
-- attempt. Returns what the attempt sends: the endpoint's URL and secrets (the previous one
-- while its overlap lasts) and the event.
-- $1 org_id uuid, $2 lease seconds float8, $3 claim_id uuid, $4 limit int8.
with heads as (
    select d.id
    from app.webhook_deliveries d
    join app.webhook_endpoints e on e.org_id = d.org_id and e.id = d.endpoint_id
    where d.org_id = $1 and e.org_id = $1
      and d.status = 'pending' and d.next_attempt_at <= now()
      and (d.lease_until is null or d.lease_until < now())
      and e.disabled_reason is null
      and not exists (select 1 from app.webhook_deliveries p
                      where p.org_id = $1 and p.endpoint_id = d.endpoint_id
                        and p.status = 'pending' and p.event_seq < d.event_seq)
    order by d.event_seq
    limit $4
    for update of d skip locked
), claimed as (
    update app.webhook_deliveries d
    set lease_until = now() + make_interval(secs => $2),
        claim_id = $3,
        attempts = d.attempts + 1,
        last_attempt_at = now()
    from heads h
    where d.org_id = $1 and d.id = h.id
    returning d.id, d.endpoint_id, d.event_id, d.attempts
)
select c.id, c.endpoint_id, c.event_id, c.attempts, e.url, e.secret,
       case when e.previous_secret_expires_at > now() then e.previous_secret end as previous_secret,
       ev.type as event_type, ev.payload, ev.created_at as event_created_at
from claimed c
join app.webhook_endpoints e on e.org_id = $1 and e.id = c.endpoint_id
join app.events ev on ev.org_id = $1 and ev.id = c.event_id
