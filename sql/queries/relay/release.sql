-- Ends claim $3 on an endpoint: another relay may deliver to it at once.
-- $1 org_id uuid, $2 endpoint id uuid, $3 claim_id uuid.
update app.webhook_endpoints
set relay_lease_until = null,
    relay_claim_id = null
where org_id = $1 and id = $2 and relay_claim_id = $3
