-- A page of the organization's events in commit order (seq), after a position.
-- $1 org_id uuid, $2 types text[] or NULL (any of them), $3 subject_id uuid or NULL,
-- $4 actor_id uuid or NULL, $5 created at or after timestamptz or NULL, $6 created before
-- timestamptz or NULL, $7 after seq int8 or NULL (from the start), $8 limit int8.
-- Rows: the events, at most $8. RLS shows them to owners and admins only.
select id, seq, type, subject_id, actor_type, actor_id, request_id, payload, created_at
from app.events
where org_id = $1
  and ($2::text[] is null or type = any ($2::text[]))
  and ($3::uuid is null or subject_id = $3::uuid)
  and ($4::uuid is null or actor_id = $4::uuid)
  and ($5::timestamptz is null or created_at >= $5::timestamptz)
  and ($6::timestamptz is null or created_at < $6::timestamptz)
  and seq > coalesce($7::int8, 0)
order by seq
limit $8
