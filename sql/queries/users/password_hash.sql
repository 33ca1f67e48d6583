-- The password hash of the transaction's own user, to check the current password before a
-- change of that user's own credentials (never another user's).
-- $1 org_id uuid, $2 id uuid (the caller). One row, or none for a removed user.
select password_hash
from app.users
where org_id = $1 and id = $2 and deleted_at is null
