-- The organization's newest event (its commit-order counter), where a new or re-enabled
-- endpoint's fan-out starts; 0 before its first event. $1 org_id uuid. One row: seq int8.
select coalesce((select last_seq from app.event_counters where org_id = $1), 0)::int8 as seq
