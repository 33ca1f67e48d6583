-- Exchanges a refresh token through the SECURITY DEFINER function of migration V5.
-- $1 org_id uuid, $2 session id uuid, $3 presented hash bytea, $4 next hash bytea,
-- $5 grace window in seconds float8. One row: outcome text ('rotated', 'reused' or
-- 'invalid'), user_id uuid, role text, expires_at timestamptz.
select outcome, user_id, role, expires_at
from app.rotate_refresh_token($1, $2, $3, $4, make_interval(secs => $5))
