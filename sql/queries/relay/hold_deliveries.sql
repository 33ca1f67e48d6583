-- Holds the pending deliveries of an endpoint the relay disabled (next attempt at infinity;
-- enabling it through the API releases them). $1 org_id uuid, $2 endpoint_id uuid.
update app.webhook_deliveries
set next_attempt_at = 'infinity'::timestamptz
where org_id = $1 and endpoint_id = $2 and status = 'pending'
