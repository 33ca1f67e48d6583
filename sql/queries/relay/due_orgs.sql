-- The organizations that have work for the relay now (deliveries due, events not yet fanned
-- out to an enabled endpoint), at most $1 of them: ids only (app.webhook_due_orgs).
-- $1 limit int4. Rows: org_id uuid.
select o as org_id from app.webhook_due_orgs($1) o
