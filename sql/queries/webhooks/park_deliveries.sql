-- Holds ($3 = false: next attempt at infinity) or releases ($3 = true: due now) the
-- pending deliveries of an endpoint that was disabled or enabled.
-- $1 org_id uuid, $2 endpoint_id uuid, $3 enabled bool, $4 now timestamptz (the service's
-- clock: Citus allows no clock function inside CASE in an UPDATE). Rows: none.
update app.webhook_deliveries
set next_attempt_at = case when $3 then $4::timestamptz else 'infinity'::timestamptz end
where org_id = $1 and endpoint_id = $2 and status = 'pending'
