-- Purges the outbox: events created longer ago than the event retention period (and, later,
-- what hangs off them), through the SECURITY DEFINER function of migration V20. Run by
-- `tenantry purge` as the migration role.
-- $1 event retention in days int4. Rows: kind text, purged int8.
select kind, purged
from app.purge_events(now() - make_interval(days => $1))
