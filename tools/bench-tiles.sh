#!/usr/bin/env bash
# bench-tiles.sh — the tile benchmark, on the 1,000,000-site SYNTHETIC network:
#   - uncached `sites` tiles at z 8, 10 and 12 over Paris, Lyon and Marseille,
#     maillage against PostGIS ST_AsMVT on the same sites and machine
#     (tools/bench-postgis.sh): ratio PostGIS time / maillage time, target >= 5;
#   - cached tiles req/s against /healthz req/s (wrk), target >= 0.80, plain
#     and with Accept-Encoding: gzip (what browsers send: a cached tile's
#     gzip variant is kept with it, tile_cache.h);
#   - an uncached z6 `areas` tile, target < 20 ms.
#
#   tools/bench-tiles.sh [URL]
#
# Uncached means built for the request: this script starts its own server
# with MAILLAGE_BENCH=1, under which `?nocache=1` bypasses the tile cache (the
# parameter is ignored otherwise). maillage times are client-side (curl,
# loopback, so they include HTTP); PostGIS times are server-side. Each time
# is the best of RUNS (the machine may be shared: load only adds time), and
# each req/s the best of three alternated wrk rounds; /healthz goes through
# the same kind of wrk Lua script as the tiles, so both pay the same client
# cost. With a URL and no database, only the cached figures are measured, on
# that server. Environment: BUILD, BENCH_SITES (default 1000000),
# BENCH_DATABASE (default $BUILD/bench/synthetic-$BENCH_SITES.sqlite),
# BENCH_DURATION (wrk seconds, default 5), BENCH_CONNECTIONS (default 64),
# RUNS (default 5). Missed targets are reported, never fatal.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SITES=${BENCH_SITES:-1000000}
DATABASE=${BENCH_DATABASE:-$BUILD/bench/synthetic-$SITES.sqlite}
DURATION=${BENCH_DURATION:-5}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
RUNS=${RUNS:-5}
export RUNS BUILD
binary=$BUILD/maillage
given_url=${1:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/maillage-bench-tiles-XXXXXX")
server=
cleanup() {
    if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
        kill -TERM "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
for tool in curl wrk awk; do
    command -v "$tool" >/dev/null || { echo "bench-tiles: $tool is missing (tools/install-deps.sh build bench)" >&2; exit 1; }
done

# ---- The server: our own (MAILLAGE_BENCH=1) when the database is there ----
url=$given_url
if [ -s "$DATABASE" ] && [ -x "$binary" ]; then
    MAILLAGE_BENCH=1 "$binary" serve --db "$DATABASE" --listen 127.0.0.1:0 --access-log off \
        >"$work/serve.out" 2>"$work/serve.err" &
    server=$!
    url=
    for _ in $(seq 1 12000); do
        url=$(sed -nE 's/^maillage: serving \S+ \([0-9]+ sites\) on (http:\S+) in .*/\1/p' "$work/serve.out")
        [ -n "$url" ] && break
        kill -0 "$server" 2>/dev/null || break
        sleep 0.01
    done
    [ -n "$url" ] || { echo "bench-tiles: the server did not start" >&2; cat "$work/serve.err" >&2; exit 1; }
    uncached=1
else
    [ -n "$url" ] || { echo "bench-tiles: no database $DATABASE and no URL" >&2; exit 1; }
    echo "bench-tiles: no database $DATABASE: cached figures only, on $url"
    uncached=0
fi

tile_of() { # lat lon z -> z/x/y
    awk -v lat="$1" -v lon="$2" -v z="$3" 'BEGIN {
        pi = atan2(0, -1); s = sin(lat * pi / 180); n = 2 ^ z
        x = int((lon + 180) / 360 * n); y = int((0.5 - log((1 + s) / (1 - s)) / (4 * pi)) * n)
        printf "%d/%d/%d", z, x, y }'
}

best_ms() { # path: the best client time of RUNS requests, in ms
    local path=$1
    for _ in $(seq 1 "$RUNS"); do
        curl -s -o "$work/tile" -w '%{time_total}\n' "$url$path"
    done | sort -n | awk 'NR == 1 { printf "%.2f", $1 * 1000 }'
}
last_bytes() { stat -c %s "$work/tile"; }

printf '\n%-44s %12s %12s %10s %s\n' "tile figure" "value" "target" "ratio" "verdict"
# line MEASURE VALUE TARGET RATIO VERDICT: one row of the table, also kept
# in $BENCH_RECORD ("measure<TAB>value") when set (tools/bench-growth.sh).
line() {
    printf '%-44s %12s %12s %10s %s\n' "$@"
    [ -z "${BENCH_RECORD:-}" ] || printf '%s\t%s\n' "$1" "$2" >>"$BENCH_RECORD"
}

# ---- Uncached sites tiles against PostGIS ----
places="Paris:48.8566:2.3522 Lyon:45.7640:4.8357 Marseille:43.2965:5.3698"
tiles=()
if [ "$uncached" = 1 ]; then
    for place in $places; do
        IFS=: read -r name lat lon <<<"$place"
        for z in 8 10 12; do tiles+=("$name:$(tile_of "$lat" "$lon" "$z")"); done
    done
    declare -A ours ours_bytes
    for entry in "${tiles[@]}"; do
        tile=${entry#*:}
        ours[$tile]=$(best_ms "/tiles/sites/$tile.mvt?nocache=1")
        ours_bytes[$tile]=$(last_bytes)
    done
    declare -A peer
    if tools/bench-postgis.sh "$DATABASE" "${tiles[@]#*:}" >"$work/postgis" 2>"$work/postgis.err"; then
        while read -r tile ms _; do peer[$tile]=$ms; done <"$work/postgis"
    else
        echo "bench-tiles: PostGIS peer unavailable: $(tail -1 "$work/postgis.err")"
    fi
    worst=
    for entry in "${tiles[@]}"; do
        name=${entry%%:*} tile=${entry#*:}
        mine=${ours[$tile]} theirs=${peer[$tile]:-NA}
        ratio=$(awk -v a="$theirs" -v b="$mine" 'BEGIN { if (a == "NA" || b <= 0) print "NA"; else printf "%.1f", a / b }')
        verdict=$(awk -v r="$ratio" 'BEGIN { if (r == "NA") print "n/a"; else print (r >= 5 ? "ok" : "MISSED") }')
        line "sites $name $tile ms (${ours_bytes[$tile]} B)" "$mine" "-" "-" ""
        line "  PostGIS ST_AsMVT ms / maillage ms" "$theirs" ">= 5x" "$ratio" "$verdict"
        worst=$(awk -v w="${worst:-}" -v r="$ratio" 'BEGIN { if (r == "NA") print w; else if (w == "" || r < w) print r; else print w }')
    done
    line "sites uncached: worst PostGIS/maillage" "${worst:-NA}" ">= 5x" "${worst:-NA}" \
        "$(awk -v r="${worst:-NA}" 'BEGIN { if (r == "NA") print "n/a"; else print (r >= 5 ? "ok" : "MISSED") }')"

    # ---- An uncached z6 areas tile (after its zoom's one-time simplification) ----
    curl -s -o /dev/null "$url/tiles/areas/6/32/22.mvt?nocache=1"
    areas=$(best_ms "/tiles/areas/6/32/22.mvt?nocache=1")
    line "areas 6/32/22 uncached ms ($(last_bytes) B)" "$areas" "< 20" \
        "$(awk -v a="$areas" 'BEGIN { printf "%.2f", a / 20 }')" \
        "$(awk -v a="$areas" 'BEGIN { print (a < 20 ? "ok" : "MISSED") }')"
fi

# ---- Cached tiles against /healthz ----
# Two sets, each warmed first: the city views (sites, basemap and areas at
# z 8..14 over the three cities: the target's figure) and the same with the
# national views (z 6 tiles of 20-70 KB, where bandwidth, not the cache,
# sets the pace; printed for information).
tile_set() { # zooms... -> a wrk Lua script on stdout
    echo 'paths = {'
    for place in $places; do
        IFS=: read -r _ lat lon <<<"$place"
        for z in "$@"; do
            for layer in sites basemap areas; do echo "  \"/tiles/$layer/$(tile_of "$lat" "$lon" "$z").mvt\","; done
        done
    done
    echo '}'
    echo 'counter = 0'
    echo 'request = function() counter = counter % #paths + 1; return wrk.format("GET", paths[counter]) end'
}
tile_set 8 10 12 14 >"$work/city.lua"
tile_set 6 8 10 12 14 >"$work/all.lua"
# /healthz through the same kind of script, so both sides pay wrk's Lua cost.
sed -E 's|^  "/tiles/.*",$|  "/healthz",|' "$work/city.lua" >"$work/healthz.lua"
# Warm-up: each tile once plain (cached) and once with gzip (its kept
# gzip variant made: browsers always ask for gzip).
sed -nE 's/^  "(.*)",$/\1/p' "$work/all.lua" | while read -r path; do
    curl -s -o /dev/null "$url$path"
    curl -s -o /dev/null -H 'Accept-Encoding: gzip' "$url$path"
done
rps() { sed -nE 's/^Requests\/sec: +([0-9.]+)/\1/p' "$1"; }
best_rps() { # wrk output files... -> the highest req/s
    for file in "$@"; do rps "$file"; done | sort -n | tail -1
}
for round in 1 2 3; do
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s "$work/healthz.lua" "$url/" >"$work/healthz.$round.wrk"
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s "$work/city.lua" "$url/" >"$work/city.$round.wrk"
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -H 'Accept-Encoding: gzip' -s "$work/city.lua" "$url/" \
        >"$work/city-gzip.$round.wrk"
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s "$work/all.lua" "$url/" >"$work/all.$round.wrk"
done
healthz=$(best_rps "$work"/healthz.*.wrk) cached=$(best_rps "$work"/city.[0-9].wrk)
cached_gzip=$(best_rps "$work"/city-gzip.*.wrk)
all=$(best_rps "$work"/all.*.wrk)
share=$(awk -v a="$cached" -v b="$healthz" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "NA" }')
share_gzip=$(awk -v a="$cached_gzip" -v b="$healthz" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "NA" }')
share_all=$(awk -v a="$all" -v b="$healthz" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "NA" }')
line "healthz req/s" "$healthz" "-" "-" ""
line "cached tiles req/s (city views, 36 tiles)" "$cached" "-" "-" ""
line "cached tiles / healthz" "$share" ">= 0.80" "$(awk -v s="$share" 'BEGIN { printf "%.2f", s / 0.8 }')" \
    "$(awk -v s="$share" 'BEGIN { print (s >= 0.8 ? "ok" : "MISSED") }')"
line "cached tiles req/s, gzip (city views)" "$cached_gzip" "-" "-" ""
line "cached gzip tiles / healthz" "$share_gzip" ">= 0.80" "$(awk -v s="$share_gzip" 'BEGIN { printf "%.2f", s / 0.8 }')" \
    "$(awk -v s="$share_gzip" 'BEGIN { print (s >= 0.8 ? "ok" : "MISSED") }')"
line "cached tiles req/s (with z6 views, 45 tiles)" "$all" "-" "-" ""
line "  ... / healthz (information)" "$share_all" "-" "-" ""
