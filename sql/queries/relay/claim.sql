-- Claims up to $4 endpoints of one organization for delivery: enabled, not leased by another
-- relay (or its lease expired), and whose oldest pending delivery is due. Skips endpoints
-- another relay is claiming (SKIP LOCKED); the lease condition is checked again on the row
-- being updated, so of two relays racing for an endpoint one gets it. Each claimed endpoint
-- is leased for $2 seconds under claim $3 (renewed at each attempt: webhooks/record.sql).
-- $1 org_id uuid, $2 lease seconds float8, $3 claim_id uuid, $4 limit int8.
-- Returns what the attempts need: the URL and the secrets (the relay signs with the previous
-- one while previous_secret_expires_at is ahead).
with candidates as (
    select e.id
    from app.webhook_endpoints e
    where e.org_id = $1 and e.disabled_reason is null
      and (e.relay_lease_until is null or e.relay_lease_until < now())
      and (select d.next_attempt_at from app.webhook_deliveries d
           where d.org_id = $1 and d.endpoint_id = e.id and d.status = 'pending'
           order by d.event_seq
           limit 1) <= now()
    limit $4
    for update of e skip locked
)
update app.webhook_endpoints e
set relay_lease_until = now() + make_interval(secs => $2),
    relay_claim_id = $3
from candidates c
where e.org_id = $1 and e.id = c.id
  and e.disabled_reason is null
  and (e.relay_lease_until is null or e.relay_lease_until < now())
returning e.id, e.url, e.secret, e.previous_secret, e.previous_secret_expires_at
