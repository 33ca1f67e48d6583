-- Pre-authentication lookup through the narrow SECURITY DEFINER function (V3, V11).
-- $1 org_slug text, $2 email text (as the client sent it). One row: account_key text, the
-- email's key (app.text_key) that log-in matches with and the account rate limit counts by,
-- whether or not the account exists; then org_id uuid, user_id uuid, password_hash text and
-- role text of the user, all NULL when there is none.
select k.account_key, l.org_id, l.user_id, l.password_hash, l.role
from app.text_key($2::text) as k (account_key)
left join app.login_lookup($1, $2) as l on true
