# postgis-cluster.sh — sourced by the PostGIS peers of the benchmarks
# (bench-postgis.sh for tiles, bench-knn-postgis.sh for nearest and bbox):
# a throwaway PostgreSQL 15 + PostGIS 3 cluster in $BUILD/bench/pg (Debian's
# initdb/pg_ctl, run as the `postgres` user when started as root), on a unix
# socket only, stopped when the sourcing script exits. maillage itself never
# needs PostgreSQL. Environment: BUILD, PG_BIN (default
# /usr/lib/postgresql/15/bin), PG_PORT (default 54329).
# Defines: pg_root, as_postgres, psql_run, pg_marker_of DATABASE.
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_PORT=${PG_PORT:-54329}
[ -x "$PG_BIN/initdb" ] || { echo "postgis: PostgreSQL missing (tools/install-deps.sh build bench)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "postgis: sqlite3 missing" >&2; exit 1; }

pg_root=$(mkdir -p "${BUILD:-build}/bench/pg" && cd "${BUILD:-build}/bench/pg" && pwd)
pg_data=$pg_root/data pg_socket=$pg_root/socket pg_log=$pg_root/server.log
as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
psql_run() { as_postgres "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$pg_socket" -p "$PG_PORT" -U postgres -d postgres "$@"; }
# The text that says which database file a loaded table came from.
pg_marker_of() { echo "$(stat -c '%s %Y' "$1") $(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }

mkdir -p "$pg_socket"
[ "$(id -u)" -eq 0 ] && chown -R postgres "$pg_root"
if [ ! -s "$pg_data/PG_VERSION" ]; then
    rm -rf "$pg_data"
    as_postgres "$PG_BIN/initdb" -D "$pg_data" -A trust -U postgres --no-sync >"$pg_root/initdb.log" 2>&1 ||
        { cat "$pg_root/initdb.log" >&2; exit 1; }
fi
as_postgres "$PG_BIN/pg_ctl" -D "$pg_data" -l "$pg_log" -w -t 120 \
    -o "-k $pg_socket -p $PG_PORT -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c jit=off -c shared_buffers=512MB -c effective_cache_size=4GB -c max_parallel_workers_per_gather=2 -c max_connections=200" \
    start >/dev/null || { cat "$pg_log" >&2; exit 1; }
trap 'as_postgres "$PG_BIN/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null 2>&1 || true' EXIT
