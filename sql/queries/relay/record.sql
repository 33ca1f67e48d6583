-- Records an attempt, if claim $3 still holds the delivery's endpoint (a relay whose lease
-- expired records nothing: the relay that took over sends it again), and renews the lease.
-- $1 org_id uuid, $2 delivery id uuid, $3 claim_id uuid, $4 status text (succeeded; pending:
-- retry at $5; dead), $5 next_attempt_at timestamptz or NULL, $6 response status int4 or
-- NULL, $7 error text or NULL, $8 snippet text or NULL, $9 latency ms int4, $10 lease
-- seconds float8, $11 succeeded_at timestamptz or NULL (the relay's clock: Citus allows no
-- clock function inside CASE in an UPDATE). Rows: the delivery's endpoint id, when recorded.
with lease as (
    update app.webhook_endpoints e
    set relay_lease_until = now() + make_interval(secs => $10)
    from app.webhook_deliveries d
    where e.org_id = $1 and d.org_id = $1 and d.id = $2 and e.id = d.endpoint_id
      and e.relay_claim_id = $3
    returning e.id
)
update app.webhook_deliveries d
set status = $4,
    attempts = d.attempts + 1,
    last_attempt_at = now(),
    next_attempt_at = coalesce($5, d.next_attempt_at),
    last_status_code = $6,
    last_error = $7,
    last_response_snippet = $8,
    last_latency_ms = $9,
    succeeded_at = $11
from lease l
where d.org_id = $1 and d.id = $2 and d.endpoint_id = l.id and d.status = 'pending'
returning d.endpoint_id
