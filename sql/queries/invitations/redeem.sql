-- Redeems an invitation's token for the new user $4 (V31, app.redeem_invitation): on
-- 'accepted' the inviter's context is entered. The transaction's first statement.
-- $1 org_id uuid, $2 id uuid, $3 presented hash bytea, $4 new user id uuid. One row: outcome
-- text, email text, role text.
select r.outcome, r.email, r.role from app.redeem_invitation($1, $2, $3, $4) as r
