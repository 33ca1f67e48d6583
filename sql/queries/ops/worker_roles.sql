-- The roles Citus opens worker connections as, from the catalog: Citus connects to a worker as
-- the current role, which inside a transaction is the role entered with SET ROLE (every
-- non-superuser role granted USAGE on the app schema: the request roles, the maintenance role)
-- and inside a SECURITY DEFINER function its owner. A role added by a later migration is found
-- without a list to keep in step. Run by `tenantry distribute`/`migrate` (which let them log in
-- to the workers) and by the start-up self-check on Citus (which verifies that they can).
-- No parameters. Rows: role name, in name order.
select r.rolname as role
from pg_catalog.pg_roles r
where not r.rolsuper
  and (r.oid in (select (pg_catalog.aclexplode(n.nspacl)).grantee from pg_catalog.pg_namespace n
                 where n.nspname = 'app')
       or r.oid in (select p.proowner from pg_catalog.pg_proc p
                    where p.pronamespace = 'app'::regnamespace and p.prosecdef))
order by r.rolname
