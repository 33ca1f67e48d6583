-- Queues an email in the transaction's organization (the outbox, V30); the mail worker sends it.
-- $1 org_id uuid, $2 id uuid, $3 kind text, $4 recipient text, $5 data jsonb (the template's
-- variables). No rows. Can trip ck_outbound_emails_* (a bug) and RLS WITH CHECK.
insert into app.outbound_emails (org_id, id, kind, recipient, data)
values ($1, $2, $3, $4, $5)
