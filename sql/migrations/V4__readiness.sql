-- Readiness (`GET /readyz`) reports whether the database's migrations are current, and runs
-- as the runtime role like every request: let it read the migration history, nothing more.
grant select on table refinery_schema_history to tenantry_app;
