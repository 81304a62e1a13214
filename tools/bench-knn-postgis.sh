#!/usr/bin/env bash
# bench-knn-postgis.sh — the PostGIS peer of `make bench`'s nearest and bbox
# measures: the same SYNTHETIC sites and query list, loaded the way a
# PostGIS expert would, measured with pgbench at the same concurrency.
#
#   tools/bench-knn-postgis.sh DATABASE.sqlite QUERIES.tsv W,S,E,N MAILLAGE_URL
#
# QUERIES.tsv: "lat lon code" per line (the list wrk's scripts draw from).
# Loading (once per database file): `geography` points; a (code, site) table
# with one composite GiST index (code, geog) through btree_gist, its rows
# ordered by code then geohash; the listed ancestors of every code (so a
# query for D asks each ancestor's index, as maillage searches each
# ancestor's tree; ancestors.depth 0 is D itself); a geometry(4326) GiST
# index for boxes; VACUUM ANALYZE and pg_prewarm. Queries (pgbench -M
# prepared, CONNECTIONS clients, 2 threads, DURATION seconds each):
#  - filtered: k = 5 nearest covering sites, the union of each listed
#    ancestor's 5 nearest (index KNN, geog <-> point), distinct, first 5;
#  - plain: k = 5 nearest of all sites;
#  - bbox: the FeatureCollection of the first 1,000 sites (site_id order) in
#    the box, as maillage's /api/structures answers it.
# Before measuring, SAMPLES filtered queries are compared with maillage's
# /api/nearest at MAILLAGE_URL: same sites in the same order, distances
# (PostGIS ST_Distance on the spheroid) within 1 m. Prints:
#   filtered_tps N / plain_tps N / bbox_tps N / agree A of B
# Environment: BUILD, CONNECTIONS (64), DURATION (10), SAMPLES (30), PG_BIN, PG_PORT.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-10}
SAMPLES=${SAMPLES:-30}
[ $# -eq 4 ] || { echo "usage: $0 DATABASE.sqlite QUERIES.tsv W,S,E,N MAILLAGE_URL" >&2; exit 2; }
database=$1 queries=$2 bbox=$3 url=$4
[ -s "$database" ] && [ -s "$queries" ] || { echo "bench-knn-postgis: missing $database or $queries" >&2; exit 1; }
. tools/postgis-cluster.sh
work=$(mktemp -d)
chmod 755 "$work"
trap 'rm -rf "$work"; as_postgres "$PG_BIN/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null 2>&1 || true' EXIT

marker=$(pg_marker_of "$database")
if [ "$(cat "$pg_root/knn-loaded" 2>/dev/null)" != "$marker" ]; then
    echo "bench-knn-postgis: loading the sites of $database" >&2
    psql_run -c "SET client_min_messages = warning;
        CREATE EXTENSION IF NOT EXISTS postgis; CREATE EXTENSION IF NOT EXISTS btree_gist;
        CREATE EXTENSION IF NOT EXISTS pg_prewarm;
        DROP TABLE IF EXISTS knn_sites, knn_codes, knn_ancestors, knn_raw_sites, knn_raw_codes;
        CREATE UNLOGGED TABLE knn_raw_sites(site_id text, lat float8, lon float8, role text,
            name text, centre_label text, filiere text, finess text, city text, public text);
        CREATE UNLOGGED TABLE knn_raw_codes(code int, site_id text);
        CREATE TABLE knn_ancestors(code int, ancestor int, PRIMARY KEY (code, ancestor));" >/dev/null
    sqlite3 -csv -noheader "$database" "SELECT site_id, lat, lon, role, structure_name,
        centre_label, filiere, finess, city, public FROM sites" |
        psql_run -c "COPY knn_raw_sites FROM STDIN WITH (FORMAT csv)"
    sqlite3 -csv -noheader "$database" "SELECT orpha_code, site_id FROM site_codes" |
        psql_run -c "COPY knn_raw_codes FROM STDIN WITH (FORMAT csv)"
    sqlite3 -csv -noheader "$database" "SELECT orpha_code, ancestor FROM ancestors
        WHERE ancestor IN (SELECT DISTINCT orpha_code FROM site_codes)" |
        psql_run -c "COPY knn_ancestors FROM STDIN WITH (FORMAT csv)"
    psql_run -c "
        CREATE TABLE knn_sites AS SELECT site_id, role, name, centre_label, filiere, finess, city,
            public, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS geom,
            ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography AS geog
        FROM knn_raw_sites ORDER BY ST_GeoHash(ST_SetSRID(ST_MakePoint(lon, lat), 4326));
        CREATE INDEX knn_sites_geog ON knn_sites USING gist(geog);
        CREATE INDEX knn_sites_geom ON knn_sites USING gist(geom);
        CREATE TABLE knn_codes AS SELECT c.code, c.site_id, s.geog FROM knn_raw_codes c
            JOIN knn_sites s USING (site_id) ORDER BY c.code, ST_GeoHash(s.geom);
        CREATE INDEX knn_codes_code_geog ON knn_codes USING gist(code, geog);
        DROP TABLE knn_raw_sites, knn_raw_codes;" >/dev/null
    psql_run -c "VACUUM ANALYZE knn_sites" -c "VACUUM ANALYZE knn_codes" -c "VACUUM ANALYZE knn_ancestors" >/dev/null
    echo "$marker" >"$pg_root/knn-loaded"
fi
psql_run -c "DROP TABLE IF EXISTS bench_queries;
    CREATE TABLE bench_queries(i int PRIMARY KEY, coded int UNIQUE, lat float8, lon float8,
        code int, point geography);" >/dev/null
# coded: the rank of the query among those with a code (pgbench draws from them).
awk '{ coded = ""; if ($3 > 0) coded = ++n; printf "%d,%s,%s,%s,%s\n", NR, coded, $1, $2, $3 }' "$queries" |
    psql_run -c "COPY bench_queries(i, coded, lat, lon, code) FROM STDIN WITH (FORMAT csv)"
psql_run -c "UPDATE bench_queries SET point = ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography" \
    -c "VACUUM ANALYZE bench_queries" -c "SELECT sum(pg_prewarm(c)) FROM unnest(ARRAY['knn_sites', 'knn_sites_geog', 'knn_sites_geom',
        'knn_codes', 'knn_codes_code_geog', 'knn_ancestors', 'bench_queries']::regclass[]) c;" >/dev/null
count=$(wc -l <"$queries")

# The filtered query (for query :i): each listed ancestor's 5 nearest
# through the (code, geog) index, then the 5 nearest distinct sites.
filtered_sql() { # distance expression
    cat <<SQL
SELECT x.site_id, min($1) AS d
FROM bench_queries q
CROSS JOIN LATERAL (SELECT a.ancestor FROM knn_ancestors a WHERE a.code = q.code) a
CROSS JOIN LATERAL (SELECT k.site_id, k.geog FROM knn_codes k WHERE k.code = a.ancestor
                    ORDER BY k.geog <-> q.point LIMIT 5) x
WHERE q.i = :i GROUP BY x.site_id ORDER BY d, x.site_id LIMIT 5;
SQL
}

# ---- The answers must equal maillage's ----
agree=0 compared=0
for i in $(awk -v n="$count" -v s="$SAMPLES" 'BEGIN { for (j = 0; j < s; j++) print 1 + int(j * n / s) }'); do
    read -r lat lon code < <(sed -n "${i}p" "$queries")
    [ "$code" -gt 0 ] || continue
    compared=$((compared + 1))
    filtered_sql "ST_Distance(x.geog, q.point, true)" | sed "s/:i/$i/" >"$work/sample.sql"
    chmod 644 "$work/sample.sql"
    psql_run -At -F ' ' -f "$work/sample.sql" >"$work/pg"
    curl -sf "$url/api/nearest?lat=$lat&lon=$lon&orpha=$code&k=5" |
        node -e 'let t = ""; process.stdin.on("data", (d) => t += d).on("end", () => {
            for (const r of JSON.parse(t).results) console.log(r.site_id, r.distance_m); });' >"$work/ours"
    if [ "$(cut -d' ' -f1 "$work/pg")" = "$(cut -d' ' -f1 "$work/ours")" ] &&
        paste -d' ' "$work/pg" "$work/ours" | awk '{ d = $2 - $4; if (d < 0) d = -d; if (d > 1) bad = 1 }
            END { exit bad }'; then
        agree=$((agree + 1))
    else
        echo "bench-knn-postgis: query $i ($lat, $lon, ORPHA $code) differs:" >&2
        paste -d' ' "$work/pg" "$work/ours" >&2
    fi
done

# ---- Throughput ----
pgbench_tps() { # script file
    as_postgres "$PG_BIN/pgbench" -n -M prepared -c "$CONNECTIONS" -j 2 -T "$DURATION" \
        -h "$pg_socket" -p "$PG_PORT" -U postgres -f "$1" postgres 2>"$work/pgbench.err" |
        sed -nE 's/^tps = ([0-9.]+) .*without initial connection time.*/\1/p'
}
{ echo "\\set n random(1, $(awk '$3 > 0' "$queries" | wc -l))"
  filtered_sql "x.geog <-> q.point" | sed 's/WHERE q.i = :i/WHERE q.coded = :n/'
} >"$work/filtered.sql"
{ echo "\\set i random(1, $count)"
  echo "SELECT s.site_id, s.geog <-> q.point AS d FROM bench_queries q CROSS JOIN LATERAL"
  echo "  (SELECT site_id, geog FROM knn_sites ORDER BY geog <-> q.point LIMIT 5) s WHERE q.i = :i;"
} >"$work/plain.sql"
IFS=, read -r west south east north <<<"$bbox"
cat >"$work/bbox.sql" <<SQL
SELECT json_build_object('type', 'FeatureCollection', 'features',
    coalesce(json_agg(ST_AsGeoJSON(t.*, 'geom')::json), '[]'::json))
FROM (SELECT site_id, name, role, centre_label, filiere, finess, city, public, geom FROM knn_sites
      WHERE geom && ST_MakeEnvelope($west, $south, $east, $north, 4326)
      ORDER BY site_id LIMIT 1000) t;
SQL
chmod 644 "$work"/*.sql
echo "filtered_tps $(pgbench_tps "$work/filtered.sql")"
echo "plain_tps $(pgbench_tps "$work/plain.sql")"
echo "bbox_tps $(pgbench_tps "$work/bbox.sql")"
echo "agree $agree of $compared"
