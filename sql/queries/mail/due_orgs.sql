-- Organizations with emails due now, through the worker's SECURITY DEFINER function (V30).
-- $1 limit int4. Rows: org_id uuid.
select d.org_id from app.mail_due_orgs($1) as d (org_id)
