-- Sends a delivery again (whatever its status): pending, due now, a fresh count of attempts;
-- the same event, so the same webhook-id. Held instead (next attempt at infinity) while its
-- endpoint is disabled. $1 org_id uuid, $2 endpoint_id uuid, $3 id uuid, $4 endpoint enabled bool,
-- $5 now timestamptz (the service's clock: Citus allows no clock function inside CASE in an UPDATE).
-- Returns the delivery, or no row.
update app.webhook_deliveries d
set status = 'pending',
    attempts = 0,
    next_attempt_at = case when $4::boolean then $5::timestamptz else 'infinity'::timestamptz end
where d.org_id = $1 and d.endpoint_id = $2 and d.id = $3
returning id, endpoint_id, event_id, event_type, status, attempts,
       case when status = 'pending' and next_attempt_at < 'infinity'::timestamptz then next_attempt_at end as next_attempt_at,
       last_attempt_at, last_status_code, last_error, last_response_snippet, last_latency_ms, succeeded_at, created_at
