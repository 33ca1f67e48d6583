-- On every Citus worker, which of the roles Citus connects as (app.worker_roles(): the runtime
-- roles and the owners of SECURITY DEFINER functions) cannot log in there. Run by the start-up
-- self-check on a Citus coordinator as the runtime role, which must itself reach each worker.
-- No parameters. Rows: node text ('host:port'), reached bool, roles text (comma-separated, or
-- the connection error when not reached).
select w.nodename || ':' || w.nodeport as node, w.success as reached, w.result as roles
from pg_catalog.run_command_on_workers(pg_catalog.format(
    'select coalesce(string_agg(rolname, '', '' order by rolname), '''') from pg_catalog.pg_roles '
    'where not rolcanlogin and rolname = any (%L::name[])',
    array(select app.worker_roles()))) w
order by w.nodeport, w.nodename
