-- Claims up to $2 due emails of organization $1 and leases them for $3 seconds (V30).
-- $1 org_id uuid, $2 limit int4, $3 lease float8 seconds. Rows: id uuid, kind text,
-- recipient text, data jsonb, attempts int4 (this attempt included).
select c.id, c.kind, c.recipient, c.data, c.attempts
from app.claim_emails($1, $2, make_interval(secs => $3)) as c
