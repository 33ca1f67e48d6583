-- Pre-authentication lookup through the narrow SECURITY DEFINER function (V3 migration).
-- $1 org_slug text, $2 email text (normalised). Zero or one row:
-- org_id uuid, user_id uuid, password_hash text, role text.
select org_id, user_id, password_hash, role
from app.login_lookup($1, $2)
