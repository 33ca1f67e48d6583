-- Redeems a token of kind $3 (V32, app.redeem_user_token): on 'used_now' the user's context is
-- entered. The transaction's first statement.
-- $1 org_id uuid, $2 id uuid, $3 kind text, $4 presented hash bytea. One row: outcome text,
-- user_id uuid, email text.
select r.outcome, r.user_id, r.email from app.redeem_user_token($1, $2, $3, $4) as r
