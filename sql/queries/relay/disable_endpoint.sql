-- Disables an enabled endpoint that failed too often (reason `failing`); its pending
-- deliveries are held by relay/hold_deliveries.sql, and the relay records
-- `webhook_endpoint.disabled` with the returned endpoint (the columns of webhooks/get.sql).
-- $1 org_id uuid, $2 id uuid. Returns the endpoint if this statement disabled it (once), else
-- no row.
update app.webhook_endpoints
set disabled_reason = 'failing',
    disabled_at = now()
where org_id = $1 and id = $2 and disabled_reason is null
returning id, url, event_types, description, disabled_reason, disabled_at,
          previous_secret_expires_at, consecutive_failures, version, created_at, updated_at,
          created_by, created_by_type, updated_by, updated_by_type
