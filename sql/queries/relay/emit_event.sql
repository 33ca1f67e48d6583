-- Records an event the relay caused (webhook_endpoint.disabled) in its own transaction, through
-- the same function as requests (V20; V27 lets tenantry_relay call it, with no actor).
-- $1 org_id uuid, $2 event id uuid (UUIDv7), $3 type text, $4 subject id uuid, $5 payload jsonb.
-- One row: the event's seq.
select app.emit_event($1, $2, $3, $4, null, $5) as seq
