-- On every Citus worker, which of the given roles (ops/worker_roles.sql) cannot log in there.
-- Run by the start-up self-check on a Citus coordinator as the pre-authentication role, which
-- must itself reach each worker.
-- $1 roles name[]. Rows: node text ('host:port'), reached bool, roles text (comma-separated,
-- or the connection error when not reached).
select w.nodename || ':' || w.nodeport as node, w.success as reached, w.result as roles
from pg_catalog.run_command_on_workers(pg_catalog.format(
    'select coalesce(string_agg(rolname, '', '' order by rolname), '''') from pg_catalog.pg_roles '
    'where not rolcanlogin and rolname = any (%L::name[])',
    $1::name[])) w
order by w.nodeport, w.nodename
