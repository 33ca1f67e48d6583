-- An attempt to the endpoint succeeded: its failure count restarts (written only when it
-- was not zero). $1 org_id uuid, $2 id uuid.
update app.webhook_endpoints
set consecutive_failures = 0
where org_id = $1 and id = $2 and consecutive_failures <> 0
