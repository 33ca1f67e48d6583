-- Enters one organization for the rest of the relay's transaction (after SET LOCAL ROLE
-- tenantry_relay): app.relay_enter sets app.org_id with SET LOCAL, which Citus forwards.
-- $1 org_id uuid. One row (void).
select app.relay_enter($1)
