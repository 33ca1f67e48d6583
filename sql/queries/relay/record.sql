-- Records an attempt's outcome, if the claim $3 still holds the delivery (a relay whose lease
-- expired records nothing over a newer claim). $1 org_id uuid, $2 id uuid, $3 claim_id uuid,
-- $4 status text (succeeded, pending: retry at $5, dead), $5 next_attempt_at timestamptz or
-- NULL, $6 response status int4 or NULL, $7 error text or NULL, $8 snippet text or NULL,
-- $9 latency ms int4. Rows affected: 0 or 1.
update app.webhook_deliveries
set status = $4,
    next_attempt_at = coalesce($5, next_attempt_at),
    lease_until = null,
    claim_id = null,
    last_status_code = $6,
    last_error = $7,
    last_response_snippet = $8,
    last_latency_ms = $9,
    succeeded_at = case when $4 = 'succeeded' then now() end
where org_id = $1 and id = $2 and claim_id = $3
