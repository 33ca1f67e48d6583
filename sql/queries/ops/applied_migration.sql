-- The newest applied migration version (0 when none), for readiness.
-- No parameters. One row: version int4.
select coalesce(max(version), 0)::int4 as version
from refinery_schema_history
