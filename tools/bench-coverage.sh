#!/usr/bin/env bash
# bench-coverage.sh URL — coverage and service areas in `make bench`.
#
# Prints, measured in this run (never a timed test):
#   - on the shipped data (a server of its own on build/maillage.sqlite):
#     /api/coverage uncached, département level (median of 9 radii, each a
#     new cache key), target < 50 ms; /api/service-areas uncached, < 200 ms;
#   - on the benchmark server at URL (the 1,000,000-site synthetic network):
#     /api/coverage uncached (median of 5), < 1 s; service areas for the code
#     whose covering sites are nearest 2,000 (about 2,000 positions), < 500 ms;
#   - cached coverage answers req/s against /healthz (wrk, 5 s each).
# Times are wall-clock from curl (loopback), median of the runs.
set -uo pipefail
cd "$(dirname "$0")/.."
url=$1
BUILD=${BUILD:-build}
binary=$BUILD/maillage
database=$BUILD/maillage.sqlite
DURATION=${BENCH_DURATION:-5}
work=$(mktemp -d "${TMPDIR:-/tmp}/maillage-bench-coverage-XXXXXX")
server=
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

median() { sort -n | awk '{ v[++n] = $1 } END { if (n == 0) print "NA"; else print v[int((n + 1) / 2)] }'; }
# ms PATH: milliseconds of one GET, or NA unless 200.
ms() {
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$1" |
        awk '$1 == 200 { printf "%.1f\n", $2 * 1000; next } { print "NA" }'
}
# line MEASURE VALUE TARGET RATIO VERDICT: one row of the table, also kept
# in $BENCH_RECORD ("measure<TAB>value") when set (tools/bench-growth.sh).
line() {
    printf '%-52s %12s %10s %10s %s\n' "$@"
    [ -z "${BENCH_RECORD:-}" ] || printf '%s\t%s\n' "$1" "$2" >>"$BENCH_RECORD"
}
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { if (v == "NA") print "NA"; else print (v < t ? "ok" : "MISSED") }'; }
ratio() { awk -v v="$1" -v t="$2" 'BEGIN { if (v == "NA") print "NA"; else printf "%.2f", v / t }'; }

"$binary" serve --db "$database" --listen 127.0.0.1:0 --access-log off >"$work/serve.out" 2>&1 &
server=$!
for _ in $(seq 1 300); do grep -q serving "$work/serve.out" && break; sleep 0.1; done
shipped=$(sed -nE 's/.* on (http:[^ ]+) in .*/\1/p' "$work/serve.out")

for radius in 10 20 30 40 50 60 70 80 90; do
    ms "$shipped/api/coverage?orpha=586&radius_km=$radius&level=departement"
done | median >"$work/shipped_coverage"
for role in "" "&role=ccmr" "&public=enfants" "&public=adultes" "&public=tous"; do
    ms "$shipped/api/service-areas?orpha=586$role"
done | median >"$work/shipped_areas"

# The benchmark database's most listed code (coverage), and for service
# areas the code whose covering sites (through the classification, as
# /api/conditions counts them) are nearest 2,000: the synthetic sites sit
# at distinct positions, so that is about 2,000 cells.
bench_db=$(ls "$BUILD"/bench/synthetic-*.sqlite 2>/dev/null | head -1)
top=586 areas_code=586 positions=?
if [ -n "$bench_db" ] && command -v sqlite3 >/dev/null; then
    top=$(sqlite3 "$bench_db" "SELECT orpha_code FROM site_codes GROUP BY orpha_code ORDER BY count(*) DESC LIMIT 1")
    best=
    for code in $(sqlite3 "$bench_db" "SELECT orpha_code FROM site_codes GROUP BY orpha_code
            ORDER BY count(*) DESC LIMIT 200; SELECT DISTINCT ancestor FROM ancestors WHERE orpha_code IN
            (SELECT orpha_code FROM site_codes GROUP BY orpha_code ORDER BY count(*) DESC LIMIT 50)"); do
        sites=$(curl -sf "$url/api/conditions?q=ORPHA:$code" | sed -nE 's/.*"sites":([0-9]+).*/\1/p')
        [ -n "$sites" ] || continue
        distance=$((sites > 2000 ? sites - 2000 : 2000 - sites))
        if [ -z "$best" ] || [ "$distance" -lt "$best" ]; then best=$distance areas_code=$code positions=$sites; fi
    done
fi
for radius in 15 25 35 45 55; do
    ms "$url/api/coverage?orpha=$top&radius_km=$radius"
done | median >"$work/big_coverage"
for public in "" "&public=enfants" "&public=adultes"; do
    ms "$url/api/service-areas?orpha=$areas_code$public"
done | median >"$work/big_areas"

rps() { wrk -t2 -c64 -d"${DURATION}s" "$1" 2>/dev/null | awk '/Requests\/sec/ { printf "%.0f", $2 }'; }
cached="$shipped/api/coverage?orpha=586&radius_km=100"
curl -sf -o /dev/null "$cached"
rps_cached=$(rps "$cached")
rps_healthz=$(rps "$shipped/healthz")
share=$(awk -v a="$rps_cached" -v b="$rps_healthz" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "NA" }')

echo
line "coverage figure" "value" "target" "ratio" "verdict"
v=$(cat "$work/shipped_coverage"); line "coverage uncached ms, shipped data (départements)" "$v" "< 50" "$(ratio "$v" 50)" "$(verdict "$v" 50)"
v=$(cat "$work/shipped_areas"); line "service areas uncached ms, shipped data" "$v" "< 200" "$(ratio "$v" 200)" "$(verdict "$v" 200)"
v=$(cat "$work/big_coverage"); line "coverage uncached ms, benchmark network (ORPHA:$top)" "$v" "< 1000" "$(ratio "$v" 1000)" "$(verdict "$v" 1000)"
v=$(cat "$work/big_areas"); line "service areas ms, ${positions} covering sites (ORPHA:$areas_code)" "$v" "< 500" "$(ratio "$v" 500)" "$(verdict "$v" 500)"
line "cached coverage req/s" "$rps_cached" "-" "-" ""
line "cached coverage / healthz (shipped data)" "$share" "-" "-" ""
echo "(wall-clock ms from curl on loopback, median of the runs; NA: not 200)"
