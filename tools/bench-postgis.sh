#!/usr/bin/env bash
# bench-postgis.sh — the PostGIS peer of the tile benchmark: builds the same
# `sites` tiles as maillage (grid clusters at z <= 8, sites folded by exact
# position above) with ST_AsMVT, on the same SYNTHETIC sites and machine.
#
#   tools/bench-postgis.sh DATABASE.sqlite z/x/y...
#
# Prints one line per tile: "z/x/y <ms> <bytes>", the best server-side time
# of RUNS runs of `SELECT length(ST_AsMVT(...))` (psql \timing; the best, not
# the median, because the machine is shared and load only adds time).
# The cluster is tools/postgis-cluster.sh's; the sites are loaded once per
# database file (a marker keeps its size and mtime). Environment: BUILD,
# RUNS (default 5), PG_BIN, PG_PORT.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-5}
[ $# -ge 2 ] || { echo "usage: $0 DATABASE.sqlite z/x/y..." >&2; exit 2; }
database=$1; shift
[ -s "$database" ] || { echo "bench-postgis: no database $database" >&2; exit 1; }
. tools/postgis-cluster.sh
root=$pg_root

# ---- Load the sites once per database file ----
marker=$(pg_marker_of "$database")
if [ "$(cat "$root/loaded" 2>/dev/null)" != "$marker" ]; then
    echo "bench-postgis: loading the sites of $database into PostGIS" >&2
    psql_run -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS postgis;
        DROP TABLE IF EXISTS sites_raw, sites;
        CREATE UNLOGGED TABLE sites_raw(site_id text, lat float8, lon float8, role text, name text,
            centre_label text, filiere text, finess text, city text, public text);" >/dev/null
    sqlite3 -csv -noheader "$database" "SELECT site_id, lat, lon, role, structure_name, centre_label,
        filiere, finess, city, public FROM sites" |
        psql_run -c "COPY sites_raw FROM STDIN WITH (FORMAT csv)"
    psql_run -c "CREATE TABLE sites AS SELECT site_id, role, name, centre_label, filiere, finess,
            city, public, lat, lon,
            ST_Transform(ST_SetSRID(ST_MakePoint(lon, lat), 4326), 3857) AS geom FROM sites_raw;
        CREATE INDEX sites_geom ON sites USING gist(geom);
        DROP TABLE sites_raw;" >/dev/null
    psql_run -c "VACUUM ANALYZE sites" >/dev/null
    echo "$marker" >"$root/loaded"
fi

# ---- One query per tile, the same work as maillage's sites layer ----
tile_sql() { # z x y: the rules of maillage's sites layer (tiles.c): a 16 x 16 grid of
    # cells, a cell with sites at 2+ positions clusters at z <= 8, and at z 9..15
    # when it holds more than 8 sites; other sites fold by exact position.
    local z=$1 x=$2 y=$3 threshold
    if [ "$z" -le 8 ]; then threshold=0; elif [ "$z" -lt 16 ]; then threshold=8; else threshold=1000000000; fi
    cat <<SQL
WITH bounds AS (SELECT ST_TileEnvelope($z, $x, $y) AS env),
points AS (
  SELECT floor((ST_X(s.geom) - ST_XMin(b.env)) / ((ST_XMax(b.env) - ST_XMin(b.env)) / 16)) AS cx,
         floor((ST_YMax(b.env) - ST_Y(s.geom)) / ((ST_YMax(b.env) - ST_YMin(b.env)) / 16)) AS cy,
         s.*
  FROM sites s, bounds b WHERE s.geom && b.env),
cells AS (
  SELECT cx, cy, (count(*) > $threshold AND count(DISTINCT geom) > 1) AS clustered
  FROM points GROUP BY cx, cy),
clusters AS (
  SELECT count(*) AS point_count, ST_Centroid(ST_Collect(p.geom)) AS geom,
         min(lon) AS west, min(lat) AS south, max(lon) AS east, max(lat) AS north
  FROM points p JOIN cells c USING (cx, cy) WHERE c.clustered GROUP BY p.cx, p.cy),
folded AS (
  SELECT count(*) AS count, string_agg(site_id, '|' ORDER BY site_id) AS site_ids,
         min(site_id) AS site_id, min(name) AS name, min(role) AS role,
         min(centre_label) AS centre_label, min(filiere) AS filiere, min(finess) AS finess,
         min(city) AS city, min(public) AS public, p.geom
  FROM points p JOIN cells c USING (cx, cy) WHERE NOT c.clustered GROUP BY p.geom),
mvt AS (
  SELECT true AS cluster, point_count, west, south, east, north, NULL::bigint AS count,
         NULL AS site_ids, NULL AS site_id, NULL AS name, NULL AS role, NULL AS centre_label,
         NULL AS filiere, NULL AS finess, NULL AS city, NULL AS public,
         ST_AsMVTGeom(k.geom, b.env, 4096, 0, true) AS geom
  FROM clusters k, bounds b
  UNION ALL
  SELECT NULL, NULL, NULL, NULL, NULL, NULL, count, site_ids, site_id, name, role, centre_label,
         filiere, finess, city, public, ST_AsMVTGeom(f.geom, b.env, 4096, 0, true)
  FROM folded f, bounds b)
SELECT length(ST_AsMVT(mvt.*, 'sites', 4096, 'geom')) FROM mvt;
SQL
}

for tile in "$@"; do
    IFS=/ read -r z x y <<<"$tile"
    sql=$(tile_sql "$z" "$x" "$y")
    {
        printf '%s\n' '\timing on'
        for _ in $(seq 1 "$RUNS"); do echo "$sql"; done
    } | psql_run -At >"$root/timing.out" 2>&1 || { cat "$root/timing.out" >&2; exit 1; }
    bytes=$(grep -E '^[0-9]+$' "$root/timing.out" | tail -1)
    best=$(sed -nE 's/^Time: ([0-9.]+) ms.*/\1/p' "$root/timing.out" | sort -n | head -1)
    echo "$tile ${best:-NA} ${bytes:-0}"
done
