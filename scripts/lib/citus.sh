# Shared by scripts/citus and bench/citus: the local three-node Citus cluster of the Citus
# fixture (a prebuilt Citus for this machine's PostgreSQL 15 and its `cluster` script).
# Source it from the repository root, then:
#   citus_fixture           finds the fixture: $CITUS_FIXTURE, ../shared/citus beside the
#                           repository, /work/shared/citus; sets CITUS_FIXTURE_DIR or returns 1
#   citus_start             installs the extension if missing, starts the cluster under
#                           $CITUS_CLUSTER_DIR (default /tmp/tenantry-citus) unless it runs,
#                           prepares every node; sets CITUS_ADMIN_URL (coordinator's postgres
#                           database), CITUS_COORDINATOR_PORT and CITUS_PORTS (every node)
#   citus_stop              stops the cluster if citus_start started it
#   citus_createdb NAME     a fresh database NAME on every node, with citus and the workers
#                           registered (dropped first if it exists); prints its URL
#   citus_dropdb NAME       drops it on every node

citus_fixture() {
    local candidate
    for candidate in "${CITUS_FIXTURE:-}" "$(pwd)/../shared/citus" /work/shared/citus; do
        if [ -n "$candidate" ] && [ -x "$candidate/cluster" ]; then
            CITUS_FIXTURE_DIR=$(cd "$candidate" && pwd)
            return 0
        fi
    done
    return 1
}

citus_start() {
    local lib port node
    CITUS_DIR=${CITUS_CLUSTER_DIR:-/tmp/tenantry-citus}
    lib=$(pg_config --pkglibdir 2>/dev/null || echo /usr/lib/postgresql/15/lib)
    if [ ! -e "$lib/citus.so" ]; then
        echo "citus: installing the Citus extension from $CITUS_FIXTURE_DIR"
        "$CITUS_FIXTURE_DIR/install"
    fi
    CITUS_STARTED=0
    "$CITUS_FIXTURE_DIR/cluster" status "$CITUS_DIR" >/dev/null 2>&1 || CITUS_STARTED=1
    "$CITUS_FIXTURE_DIR/cluster" start "$CITUS_DIR" | sed 's/^/  /'
    CITUS_COORDINATOR_PORT=$(sed -n 's/^port = \([0-9]*\).*/\1/p' "$CITUS_DIR/coordinator/postgresql.conf" | tail -n 1)
    CITUS_ADMIN_URL="postgres://postgres@127.0.0.1:$CITUS_COORDINATOR_PORT/postgres"
    mapfile -t CITUS_PORTS < <(psql "$CITUS_ADMIN_URL" -X -Atqc "select nodeport from pg_dist_node order by groupid")
    # Citus runs a maintenance daemon (a background worker) per database that uses it, on
    # every node: the tests' many short-lived databases need more than the fixture's 8 slots
    # (with none free Citus warns "could not start maintenance background worker", and that
    # database runs without distributed deadlock detection and two-phase-commit recovery).
    # A restart applies it.
    local restart=0
    for port in "${CITUS_PORTS[@]}"; do
        node="postgres://postgres@127.0.0.1:$port/postgres"
        if [ "$(psql "$node" -X -Atqc "show max_worker_processes")" -lt 32 ]; then
            psql "$node" -X -Atqc "alter system set max_worker_processes = 32" >/dev/null
            restart=1
        fi
    done
    if [ "$restart" = 1 ]; then
        "$CITUS_FIXTURE_DIR/cluster" stop "$CITUS_DIR" >/dev/null
        "$CITUS_FIXTURE_DIR/cluster" start "$CITUS_DIR" >/dev/null
    fi
    # Online shard splits and moves decode WAL with Citus's own output plugin: PostgreSQL
    # releases that restrict output plugins (output_plugin_libraries) must name it.
    for port in "${CITUS_PORTS[@]}"; do
        node="postgres://postgres@127.0.0.1:$port/postgres"
        if [ -n "$(psql "$node" -X -Atqc "select 1 from pg_settings where name = 'output_plugin_libraries' and setting !~ '(^|[ ,])citus($|[ ,])'")" ]; then
            psql "$node" -X -Atqc "alter system set output_plugin_libraries = pgoutput, test_decoding, citus" \
                -c "select pg_reload_conf()" >/dev/null
        fi
    done
}

citus_stop() {
    if [ "${CITUS_STARTED:-0}" = 1 ]; then
        "$CITUS_FIXTURE_DIR/cluster" stop "$CITUS_DIR" >/dev/null || echo "citus: could not stop the cluster under $CITUS_DIR" >&2
    fi
}

citus_dropdb() {
    local port
    for port in "${CITUS_PORTS[@]}"; do
        psql "postgres://postgres@127.0.0.1:$port/postgres" -X -qc "drop database if exists \"$1\" with (force)" >/dev/null
    done
}

citus_createdb() {
    citus_dropdb "$1"
    "$CITUS_FIXTURE_DIR/cluster" createdb "$CITUS_DIR" "$1" >/dev/null
    echo "postgres://postgres@127.0.0.1:$CITUS_COORDINATOR_PORT/$1"
}
