-- The Citus workers this node cannot open a connection to now, as the current (runtime) role:
-- readiness on a Citus coordinator. Only run where the citus extension is installed.
-- No parameters. Rows: node text ('host:port').
select n.nodename || ':' || n.nodeport as node
from pg_catalog.pg_dist_node n
where n.noderole = 'primary'
  and n.isactive
  and n.groupid <> 0
  and not pg_catalog.citus_check_connection_to_node(n.nodename, n.nodeport)
order by n.groupid
