-- Records an event of the transaction's organization (migration V20): increments the
-- organization's counter (its row lock is held to COMMIT, which keeps events in commit order)
-- and inserts the event; the actor and the time come from the transaction. Sent last, in
-- COMMIT's round trip. The webhook relay sends it too, as tenantry_relay, when it disables an
-- endpoint (V27: no actor, no request).
-- $1 org_id uuid, $2 id uuid (UUIDv7), $3 type text, $4 subject_id uuid, $5 request_id text
-- ('' outside a request), $6 payload jsonb. Rows: seq int8.
-- Can trip: pk_events (a reused id: a bug), ck_events_* (a bug).
select app.emit_event($1, $2, $3, $4, $5, $6) as seq
