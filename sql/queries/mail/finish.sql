-- Records the outcome of sending one email (V30): 'sent', 'failed' or 'retry'.
-- $1 org_id uuid, $2 id uuid, $3 outcome text, $4 error text or NULL, $5 seconds until the
-- retry float8 (read for 'retry' only). One row (void).
select app.finish_email($1, $2, $3, $4, now() + make_interval(secs => $5))
