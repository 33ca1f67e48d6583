-- Purges rows removed (or ended, or expired) longer ago than the retention period, through
-- the SECURITY DEFINER function of migration V8. Run by `tenantry purge` as the migration role.
-- $1 retention in days int4. Rows: kind text, purged int8.
select kind, purged
from app.purge(now() - make_interval(days => $1))
