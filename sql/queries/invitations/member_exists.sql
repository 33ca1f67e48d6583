-- Whether a live user of the transaction's organization has this address.
-- $1 org_id uuid, $2 email text. One row: member bool.
select exists (select 1 from app.users u
               where u.org_id = $1 and u.email = app.text_key($2) and u.deleted_at is null)
       as member
