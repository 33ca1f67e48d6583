-- Deletes one endpoint and (cascade) its deliveries. $1 org_id uuid, $2 id uuid.
-- Rows affected: 0 or 1.
delete from app.webhook_endpoints
where org_id = $1 and id = $2
