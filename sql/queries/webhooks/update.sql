-- Changes the given fields of one endpoint; NULL keeps a field. $1 org_id uuid, $2 id uuid,
-- $3 url text, $4 event_types text[], $5 description text (stored in NFC), $6 enabled bool
-- (true enables: the failure count restarts and the fan-out resumes at $7; false disables
-- it by hand), $7 last_event_seq int8 (the organization's newest event), $8 now timestamptz
-- (the service's clock: Citus allows no clock function inside CASE in an UPDATE). Returns the
-- endpoint, or no row. Can trip ck_webhook_endpoints_* (422).
update app.webhook_endpoints
set url = coalesce($3, url),
    event_types = coalesce($4, event_types),
    description = coalesce(normalize($5, NFC), description),
    disabled_reason = case when $6::boolean is null then disabled_reason
                           when $6::boolean then null
                           else coalesce(disabled_reason, 'manual') end,
    disabled_at = case when $6::boolean is null then disabled_at
                       when $6::boolean then null
                       else coalesce(disabled_at, $8::timestamptz) end,
    consecutive_failures = case when $6::boolean and disabled_reason is not null then 0
                                else consecutive_failures end,
    last_event_seq = case when $6::boolean and disabled_reason is not null then greatest(last_event_seq, $7::bigint)
                          else last_event_seq end
where org_id = $1 and id = $2
returning id, url, event_types, description, disabled_reason, disabled_at, previous_secret_expires_at, consecutive_failures, version, created_at, updated_at, created_by, created_by_type, updated_by, updated_by_type
