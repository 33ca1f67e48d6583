-- Revokes a pending invitation: its link stops working.
-- $1 org_id uuid, $2 id uuid. Zero rows when it is not pending (or not visible), else the
-- invitation.
update app.invitations
set revoked_at = now()
where org_id = $1 and id = $2 and accepted_at is null and revoked_at is null
returning id, email, role, invited_by, expires_at, accepted_at, revoked_at, created_at
