-- A page of one endpoint's deliveries, newest first, optionally of one status.
-- $1 org_id uuid, $2 endpoint_id uuid, $3 status text or NULL, $4 the last id of the
-- previous page uuid or NULL, $5 limit int8. next_attempt_at is NULL unless pending and
-- not held (held deliveries wait at infinity while their endpoint is disabled).
select id, endpoint_id, event_id, event_type, status, attempts,
       case when status = 'pending' and next_attempt_at < 'infinity'::timestamptz then next_attempt_at end as next_attempt_at,
       last_attempt_at, last_status_code, last_error, last_response_snippet, last_latency_ms, succeeded_at, created_at
from app.webhook_deliveries
where org_id = $1 and endpoint_id = $2
  and ($3::text is null or status = $3::text)
  and ($4::uuid is null or id < $4::uuid)
order by id desc
limit $5
