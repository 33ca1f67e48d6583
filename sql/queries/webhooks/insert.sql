-- Registers a webhook endpoint in the transaction's organization (owners and admins: RLS).
-- $1 org_id uuid, $2 id uuid, $3 url text, $4 event_types text[], $5 description text
-- (stored in NFC), $6 secret bytea (32 bytes), $7 last_event_seq int8 (where the fan-out
-- starts: the organization's newest event). Returns the endpoint, never its secret.
-- Can trip ck_webhook_endpoints_* (422) and RLS WITH CHECK.
insert into app.webhook_endpoints (org_id, id, url, event_types, description, secret, last_event_seq)
values ($1, $2, $3, $4, normalize($5, NFC), $6, $7)
returning id, url, event_types, description, disabled_reason, disabled_at, previous_secret_expires_at, consecutive_failures, version, created_at, updated_at, created_by, created_by_type, updated_by, updated_by_type
