-- An attempt to the endpoint failed: one more consecutive failure. $1 org_id uuid, $2 id uuid.
-- Returns the new count, or no row (the endpoint was deleted meanwhile).
update app.webhook_endpoints
set consecutive_failures = consecutive_failures + 1
where org_id = $1 and id = $2
returning consecutive_failures
