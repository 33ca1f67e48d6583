-- Disables an enabled endpoint that failed too often (reason `failing`); its pending
-- deliveries are held by webhooks/park_deliveries.sql. $1 org_id uuid, $2 id uuid.
-- Returns the endpoint's id if this statement disabled it (once), else no row.
update app.webhook_endpoints
set disabled_reason = 'failing',
    disabled_at = now()
where org_id = $1 and id = $2 and disabled_reason is null
returning id
