#!/usr/bin/env bash
# soak.sh — `make soak`: `maillage serve` under a long mixed load with hot
# reloads, and a shorter run under valgrind. Its figures go to
# $BUILD/evidence/soak.tsv (header `measure<TAB>value`), which the security
# report is written from.
#
#   tools/soak.sh                 the load run, then the valgrind run
#   tools/soak.sh --no-valgrind   the load run only
#   tools/soak.sh --valgrind      the valgrind run only
#   tools/soak.sh --list URL      prints the request mix for the server at URL
#                                 (used by tests/http/reload-memory.test.mjs)
#
# The request mix (one line per request: path, then tab-separated headers)
# covers every route: /api/nearest with and without orpha (k, role, public),
# /api/structures (bbox, filters, one site, an unknown one), conditions,
# places, coverage, service areas, /tiles.json, the TileJSON and tiles of
# every layer listed by /tiles.json (within each layer's zooms, with a
# filter on the sites layer), static files, /healthz, /metrics, a few 4xx,
# the same answers with `Accept-Encoding: gzip`, and some with the
# `If-None-Match` of their ETag (304). ORPHAcodes come from the database
# (sqlite3) or, without it, from /api/conditions.
#
# The load run (checks; exit 1 when one fails):
#   1. starts the server on 127.0.0.1 (a free port), asks every line of the
#      mix once, then runs wrk for SOAK_WARMUP_SECONDS at full load: caches,
#      threads and connection buffers reach their working size; records
#      VmRSS ("rss_warm");
#   2. runs wrk (tools/soak.lua: statuses counted in response(), printed in
#      done()) for SOAK_SECONDS at SOAK_CONNECTIONS connections on
#      SOAK_WRK_THREADS threads, sending SIGHUP SOAK_RELOADS times at equal
#      intervals; every reload must be logged as done;
#   3. records VmRSS once the server is at rest after wrk ends (no CPU used
#      for 300 ms: the requests queued when wrk stopped are done; as for
#      rss_warm) ("rss_after"; the last reload
#      came a third of the run before the end, so the caches were filled
#      again by the same mix). Checks: no 5xx, every answer counted, wrk's
#      socket errors (connect, read, write, timeout) all 0, and rss_after
#      within SOAK_RSS_TOLERANCE_PCT (5) of rss_warm.
#   wrk's --timeout is 30 s, the server's own idle-connection timeout: after
#   a reload the caches are empty and the first requests for the costliest
#   tiles take seconds each, so at 256 connections on 2 cores some answers
#   wait several seconds (latency p99 and max are recorded); a request
#   still unanswered after 30 s counts as a timeout, i.e. a failure.
#   wrk counts an error only for a connection that fails while it runs: at
#   the end of the duration it stops its loop without reading or counting
#   the requests still in flight, so a clean run has zero of every kind;
#   the server stays up until wrk has exited (stopping it earlier would
#   count resets). The connections stay below the server's limits
#   (libmicrohttpd's connection limit, --threads' queues); the per-address
#   limit is raised above them, since every connection comes from 127.0.0.1.
#   The load is bounded in time (wrk -d, --timeout) and in count
#   (SOAK_MAX_REQUESTS per wrk thread, stopped by soak.lua).
#
# The valgrind run: the server under `valgrind --leak-check=full
# --errors-for-leak-kinds=definite,indirect --error-exitcode=97` is asked
# every line of the mix once (curl, one connection; less the few answers
# that take seconds to compute cold: 50 times slower under valgrind),
# reloads, is asked every fourth line again, then gets SIGTERM. Passes when valgrind reports no error and no definite or
# indirect leak (its exit status is the server's 0) and no 5xx.
#
# Environment: BUILD (default build), SOAK_DATABASE (default
# $BUILD/maillage.sqlite), SOAK_SITES (a SYNTHETIC network of that many
# sites added to the shipped data, cached in $BUILD/soak/; default 0: the
# shipped database), SOAK_SECONDS (60), SOAK_WARMUP_SECONDS (10),
# SOAK_CONNECTIONS (256), SOAK_WRK_THREADS (2), SOAK_SERVER_THREADS (the
# server's default), SOAK_RELOADS (2), SOAK_MAX_REQUESTS (10000000),
# SOAK_RSS_TOLERANCE_PCT (5), SOAK_EVIDENCE (default
# $BUILD/evidence/soak.tsv).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
binary=$BUILD/maillage
SECONDS_RUN=${SOAK_SECONDS:-60}
WARMUP=${SOAK_WARMUP_SECONDS:-10}
CONNECTIONS=${SOAK_CONNECTIONS:-256}
WRK_THREADS=${SOAK_WRK_THREADS:-2}
RELOADS=${SOAK_RELOADS:-2}
MAX_REQUESTS=${SOAK_MAX_REQUESTS:-10000000}
TOLERANCE=${SOAK_RSS_TOLERANCE_PCT:-5}
SITES=${SOAK_SITES:-0}
EVIDENCE=${SOAK_EVIDENCE:-$BUILD/evidence/soak.tsv}

# ---- The request mix ----

# tile_of LAT LON Z -> z/x/y of the Web Mercator tile holding the point.
tile_of() {
    awk -v lat="$1" -v lon="$2" -v z="$3" 'BEGIN {
        pi = atan2(0, -1); s = sin(lat * pi / 180); n = 2 ^ z
        x = int((lon + 180) / 360 * n); y = int((0.5 - log((1 + s) / (1 - s)) / (4 * pi)) * n)
        if (x >= n) x = n - 1; if (y >= n) y = n - 1; if (y < 0) y = 0
        printf "%d/%d/%d", z, x, y }'
}

# orpha_codes URL DATABASE: up to 8 ORPHAcodes sites list, and up to 8
# disorders covered through one of their groups (sqlite3), else codes
# /api/conditions finds with sites.
orpha_codes() {
    local url=$1 database=$2
    if [ -n "$database" ] && command -v sqlite3 >/dev/null; then
        sqlite3 "$database" "SELECT orpha_code FROM (SELECT orpha_code, count(*) AS n
                FROM site_codes GROUP BY orpha_code ORDER BY n DESC, orpha_code LIMIT 8);
            SELECT a.orpha_code FROM ancestors a JOIN site_codes s ON s.orpha_code = a.ancestor
                WHERE a.depth > 0 GROUP BY a.orpha_code ORDER BY a.orpha_code LIMIT 8;" 2>/dev/null &&
            return 0
    fi
    for q in mucoviscidose drepanocytose syndrome maladie; do
        curl -sf "$url/api/conditions?q=$q&limit=20" | grep -oE '"orpha":[0-9]+,[^}]*"sites":[1-9]' |
            sed -E 's/"orpha":([0-9]+).*/\1/' || true
    done | sort -un | head -12
}

# etag URL PATH: the ETag of PATH's answer (quoted), empty when none.
etag() {
    { curl -s -o /dev/null -D - "$1$2" || true; } | tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: *//p' | head -1
}

# request_mix URL [DATABASE]: the mix on standard output, one request per line.
request_mix() {
    local url=$1 database=${2:-}
    local places="48.8566:2.3522 45.764:4.8357 43.2965:5.3698 50.6292:3.0573 43.6047:1.4442
        48.3904:-4.4861 48.5734:7.7521 44.8378:-0.5792 -20.8821:55.4507 16.2412:-61.533"
    local codes
    mapfile -t codes < <(orpha_codes "$url" "$database")
    [ ${#codes[@]} -gt 0 ] || { echo "soak: no ORPHAcode found" >&2; return 1; }
    local plain=() place lat lon i=0
    for place in $places; do
        lat=${place%%:*} lon=${place#*:}
        plain+=("/api/nearest?lat=$lat&lon=$lon")
        plain+=("/api/nearest?lat=$lat&lon=$lon&orpha=${codes[i % ${#codes[@]}]}")
        plain+=("/api/nearest?lat=$lat&lon=$lon&orpha=${codes[(i + 3) % ${#codes[@]}]}&k=20&lang=en")
        plain+=("/api/nearest?lat=$lat&lon=$lon&k=1&role=crmr,ccmr&public=enfants")
        i=$((i + 1))
    done
    local code
    for code in "${codes[@]}"; do plain+=("/api/nearest?lat=46.5&lon=2.5&orpha=$code&k=10"); done
    plain+=("/api/structures?bbox=-5.5,41,10,51.5" "/api/structures?bbox=2,48.5,2.7,49&limit=5"
        "/api/structures?bbox=-180,-90,180,90&orpha=${codes[0]}" "/api/structures?bbox=170,-50,-170,50"
        "/api/structures?bbox=4,45,5.5,46.5&role=ccmr" "/api/structures?bbox=55,-21.5,56,-20.8")
    local site
    site=$(curl -sf "$url/api/structures?bbox=-180,-90,180,90&limit=3" | grep -oE '"site_id":"[^"]+"' |
        sed -E 's/.*:"(.*)"/\1/' | head -3 || true)
    for code in $site; do plain+=("/api/structures/$code"); done
    plain+=("/api/structures/NO-SUCH-SITE")
    local q
    for q in mucoviscidose drepanocytose Marfan ORPHA:232 586 "syndrome%20de" amylose "maladie%20rare"; do
        plain+=("/api/conditions?q=$q" "/api/conditions?q=$q&lang=en&limit=5")
    done
    for q in lyon paris 75001 marseille saint-denis brest 13001 pointe-a-pitre; do plain+=("/api/places?q=$q"); done
    plain+=("/api/coverage?orpha=${codes[0]}&radius_km=100" "/api/coverage?orpha=${codes[1]:-${codes[0]}}&radius_km=50&level=region"
        "/api/coverage?filiere=OSCAR&radius_km=150" "/api/coverage?orpha=${codes[0]}&radius_km=200&role=ccmr&public=adultes"
        "/api/service-areas?orpha=${codes[0]}" "/api/service-areas?filiere=OSCAR")
    plain+=("/tiles.json" "/healthz" "/metrics" "/api/openapi.json")
    # Tiles: every layer of the catalogue, within its zooms.
    local catalogue layer min max z
    catalogue=$(curl -sf "$url/tiles.json") || { echo "soak: no /tiles.json at $url" >&2; return 1; }
    local layers
    layers=$(grep -oE '"tiles":\["/tiles/[^/"]+/\{z\}/\{x\}/\{y\}\.mvt"\],"minzoom":[0-9]+,"maxzoom":[0-9]+' <<<"$catalogue" |
        sed -E 's|.*/tiles/([^/]+)/.*"minzoom":([0-9]+),"maxzoom":([0-9]+)|\1 \2 \3|')
    [ -n "$layers" ] || { echo "soak: /tiles.json lists no layer" >&2; return 1; }
    while read -r layer min max; do
        plain+=("/tiles/$layer.json")
        for place in $places; do
            lat=${place%%:*} lon=${place#*:}
            for ((z = min; z <= max; z += 3)); do plain+=("/tiles/$layer/$(tile_of "$lat" "$lon" "$z").mvt"); done
            [ "$layer" = sites ] && plain+=("/tiles/sites/$(tile_of "$lat" "$lon" 6).mvt?orpha=${codes[0]}")
        done
    done <<<"$layers"
    # Static files.
    plain+=("/" "/embed")
    local file
    for file in web/css/*.css web/js/*.js web/icons/* web/vendor/*/*.js web/vendor/*/*.css; do
        [ -f "$file" ] && plain+=("${file#web}")
    done
    # Some 4xx: unknown path, bad parameter, unknown code, out of grid tile.
    plain+=("/no/such/path" "/api/nearest?lat=91&lon=0" "/api/nearest?lat=48&lon=2&orpha=99999999"
        "/tiles/sites/3/9/1.mvt" "/api/structures?bbox=1,2,3")
    local path tag n=0
    for path in "${plain[@]}"; do
        printf '%s\n' "$path"
        n=$((n + 1))
        # Every third answer also asked with gzip, every fifth with its ETag.
        [ $((n % 3)) -eq 0 ] && printf '%s\tAccept-Encoding: gzip\n' "$path"
        if [ $((n % 5)) -eq 0 ]; then
            tag=$(etag "$url" "$path")
            [ -n "$tag" ] && printf '%s\tIf-None-Match: %s\n' "$path" "$tag"
        fi
    done
    return 0
}

if [ "${1:-}" = --list ]; then
    [ $# -ge 2 ] || { echo "usage: tools/soak.sh --list URL [DATABASE]" >&2; exit 2; }
    request_mix "$2" "${3:-}"
    exit
fi

run_load=1 run_valgrind=1
case "${1:-}" in
'') ;;
--valgrind) run_load=0 ;;
--no-valgrind) run_valgrind=0 ;;
*) echo "usage: tools/soak.sh [--valgrind|--no-valgrind|--list URL]" >&2; exit 2 ;;
esac

tools=(curl awk)
[ $run_load = 1 ] && tools+=(wrk)
[ $run_valgrind = 1 ] && tools+=(valgrind)
for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null || { echo "soak: $tool is missing (tools/install-deps.sh build bench)" >&2; exit 1; }
done
[ -x "$binary" ] || { echo "soak: $binary is missing (make all)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/maillage-soak-XXXXXX")
server=
# stop_server PID: SIGTERM, then waits for it (nothing if it is gone).
stop_server() {
    if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
        kill -TERM "$1" 2>/dev/null || true
        wait "$1" 2>/dev/null || true
    fi
}
cleanup() {
    stop_server "$server"
    rm -rf "$work"
}
trap cleanup EXIT

# ---- The database ----
database=${SOAK_DATABASE:-$BUILD/maillage.sqlite}
if [ "$SITES" -gt 0 ]; then
    generator=$BUILD/tools/synthetic-network
    [ -x "$generator" ] || { echo "soak: $generator is missing (make $generator)" >&2; exit 1; }
    mkdir -p "$BUILD/soak"
    database=$BUILD/soak/synthetic-$SITES.sqlite
    if [ ! -s "$database" ] || [ "$binary" -nt "$database" ]; then
        echo "soak: building $database (shipped geodata + $SITES synthetic sites)"
        "$generator" --sites "$SITES" --seed 1 --out "$work/network.csv"
        "$binary" build --geodata geodata --network "$work/network.csv" --out "$database" >"$work/build.log" 2>&1 ||
            { cat "$work/build.log" >&2; exit 1; }
    fi
fi
[ -s "$database" ] || { echo "soak: no database $database (make dataset)" >&2; exit 1; }

# ---- The server ----
# start_server OUT ERR [WRAPPER...]: starts the server on a free port,
# sets server (its PID) and url; fails when it does not get ready.
start_server() {
    local out=$1 err=$2
    shift 2
    local threads=()
    [ -n "${SOAK_SERVER_THREADS:-}" ] && threads=(--threads "$SOAK_SERVER_THREADS")
    # Every connection comes from 127.0.0.1 and stands for a client of its
    # own: the per-address limit (128 by default) would close the others at
    # once, which wrk counts as read errors.
    "$@" "$binary" serve --db "$database" --listen 127.0.0.1:0 --access-log off --web web \
        --max-connections-per-ip $((CONNECTIONS + 16)) "${threads[@]}" >"$out" 2>"$err" &
    server=$!
    url=
    for _ in $(seq 1 60000); do # up to 10 minutes (valgrind loads slowly)
        url=$(sed -nE 's|^maillage: serving .* on (http://[^ ]+) in .*|\1|p' "$out")
        [ -n "$url" ] && return 0
        kill -0 "$server" 2>/dev/null || break
        sleep 0.01
    done
    echo "soak: the server did not start:" >&2
    cat "$out" "$err" >&2
    return 1
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# at_rest PID: waits until PID has used no CPU for 300 ms (at most a minute):
# requests queued when wrk stopped and reloads have finished.
at_rest() {
    local before after
    for _ in $(seq 1 200); do
        before=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat")
        sleep 0.3
        after=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat")
        [ "$before" = "$after" ] && return 0
    done
}
mb() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }

# wait_reloads ERR N: waits (up to 5 minutes) until ERR logs N reloads, done
# or failed; 0 when N are done and none failed.
wait_reloads() {
    local finished failed
    for _ in $(seq 1 30000); do
        finished=$(grep -c '^maillage: reloaded' "$1" || true)
        failed=$(grep -c '^maillage: reload of .* failed' "$1" || true)
        [ $((finished + failed)) -ge "$2" ] && break
        sleep 0.01
    done
    [ "$finished" -eq "$2" ] && [ "$failed" -eq 0 ]
}

# ask_all LIST OUT: asks every request of LIST once (curl, one connection),
# appends each status to OUT.
ask_all() {
    local config=$work/curl.config path headers header
    : >"$config"
    while IFS=$'\t' read -r path headers; do
        {
            [ -s "$config" ] && echo next
            echo "url = \"$url$path\""
            echo 'output = "/dev/null"'
            echo 'write-out = "%{http_code}\n"'
            if [ -n "$headers" ]; then
                while IFS= read -r header; do
                    echo "header = \"${header//\"/\\\"}\""
                done <<<"${headers//$'\t'/$'\n'}"
            fi
        } >>"$config"
    done <"$1"
    curl -s --max-time 600 -K "$config" >>"$2" || true
}

declare -A figure
failures=()
check() { # description condition...
    local description=$1
    shift
    if "$@"; then echo "soak: ok   $description"; else echo "soak: FAIL $description"; failures+=("$description"); fi
}

# ---- The load run ----
if [ $run_load = 1 ]; then
    start_server "$work/serve.out" "$work/serve.err"
    cat "$work/serve.out"
    rss_start=$(rss_kb "$server")
    request_mix "$url" "$database" >"$work/mix"
    echo "soak: $(wc -l <"$work/mix") requests in the mix; warming up ($WARMUP s at $CONNECTIONS connections)"
    ask_all "$work/mix" "$work/warm.statuses"
    wrk_run() { # SECONDS OUT
        wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$1s" --timeout 30s -s tools/soak.lua "$url" -- \
            "$work/mix" "$MAX_REQUESTS" >"$2" 2>&1
    }
    wrk_run "$WARMUP" "$work/warm.wrk"
    at_rest "$server"
    rss_warm=$(rss_kb "$server")
    echo "soak: resident memory $(mb "$rss_start") MB at start, $(mb "$rss_warm") MB after warm-up"

    echo "soak: $SECONDS_RUN s of wrk at $CONNECTIONS connections ($WRK_THREADS threads), $RELOADS reloads"
    wrk_run "$SECONDS_RUN" "$work/run.wrk" &
    wrk_pid=$!
    for i in $(seq 1 "$RELOADS"); do
        sleep "$(awk -v s="$SECONDS_RUN" -v n="$RELOADS" 'BEGIN { printf "%.2f", s / (n + 1) }')"
        kill -HUP "$server"
        echo "soak: reload $i sent"
    done
    wrk_status=0
    wait "$wrk_pid" || wrk_status=$?
    at_rest "$server"
    rss_after=$(rss_kb "$server")
    rss_peak=$(awk '/^VmHWM:/ { print $2 }' "/proc/$server/status")
    reloads_ok=0
    wait_reloads "$work/serve.err" "$RELOADS" && reloads_ok=1
    reloads_done=$(grep -c '^maillage: reloaded' "$work/serve.err" || true)
    grep '^maillage: reload' "$work/serve.err" || true
    kill -0 "$server" 2>/dev/null && server_alive=1 || server_alive=0
    stop_server "$server"
    server=
    sed -n '/^Running/,/^Transfer/p' "$work/run.wrk"
    grep '^soak ' "$work/run.wrk" || true

    value() { sed -nE "s/^soak $1 //p" "$work/run.wrk" | head -1; }
    requests=$(value requests)
    duration=$(value duration_s)
    counted=$(awk '/^soak status / { n += $4 } END { print n + 0 }' "$work/run.wrk")
    fives=$(awk '/^soak status 5/ { n += $4 } END { print n + 0 }' "$work/run.wrk")
    fives=$((fives + $(grep -c '^5' "$work/warm.statuses" || true)))
    not_modified=$(awk '/^soak status 304 / { print $4 }' "$work/run.wrk")
    read -r connect read write timeout < <(sed -nE 's/^soak errors connect ([0-9]+) read ([0-9]+) write ([0-9]+) timeout ([0-9]+)/\1 \2 \3 \4/p' "$work/run.wrk")
    socket_errors=$((${connect:-1} + ${read:-1} + ${write:-1} + ${timeout:-1}))
    change=$(awk -v a="$rss_warm" -v b="$rss_after" 'BEGIN { printf "%+.1f", (b - a) * 100 / a }')

    figure[requests]=${requests:-0}
    figure[latency_p99_ms]=$(value latency_p99_ms)
    figure[latency_max_ms]=$(value latency_max_ms)
    figure[req/s]=$(awk -v n="${requests:-0}" -v s="${duration:-1}" 'BEGIN { printf "%.0f", n / s }')
    figure[5xx]=$fives
    figure[304]=${not_modified:-0}
    figure[socket errors]="$socket_errors (connect ${connect:-?}, read ${read:-?}, write ${write:-?}, timeout ${timeout:-?})"
    figure[rss_start_mb]=$(mb "$rss_start")
    figure[rss_warm_mb]=$(mb "$rss_warm")
    figure[rss_after_mb]=$(mb "$rss_after")
    figure[rss_peak_mb]=$(mb "$rss_peak")
    figure[rss_change_pct]=$change
    figure[reloads]="$reloads_done of $RELOADS"
    figure[load]="${SECONDS_RUN} s, $CONNECTIONS connections, $WRK_THREADS wrk threads, $(wc -l <"$work/mix") distinct requests, $(grep -o '([0-9]* sites)' "$work/serve.out" | tr -d '()')"

    check "wrk ran to its end" [ "$wrk_status" -eq 0 -a -n "$requests" ]
    check "server still up after the run" [ "$server_alive" -eq 1 ]
    check "$RELOADS reloads done, none failed" [ "$reloads_ok" -eq 1 ]
    check "no 5xx (${figure[5xx]})" [ "$fives" -eq 0 ]
    check "every answer counted ($counted of ${requests:-0})" [ "$counted" -ge "${requests:-1}" ]
    check "some 304 (${figure[304]})" [ "${not_modified:-0}" -gt 0 ]
    check "no socket error (${figure[socket errors]})" [ "$socket_errors" -eq 0 ]
    check "resident memory after within $TOLERANCE% of after warm-up ($(mb "$rss_warm") -> $(mb "$rss_after") MB, $change%)" \
        awk -v c="$change" -v t="$TOLERANCE" 'BEGIN { exit !(c <= t && c >= -t) }'
fi

# ---- The valgrind run ----
if [ $run_valgrind = 1 ]; then
    echo "soak: valgrind run (slow: the server loads its dataset twice under valgrind)"
    start_server "$work/valgrind.out" "$work/valgrind.err" \
        valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --show-leak-kinds=definite,indirect --error-exitcode=97 --num-callers=30 \
        --suppressions=tools/soak-valgrind.supp
    # Every route, without the answers that take seconds to compute cold
    # (low-zoom areas/basemap tiles, service areas of a code): all of them
    # before the reload, every fourth after it.
    request_mix "$url" "$database" |
        grep -vE '^/tiles/(areas|basemap)/([0-9]|1[01])/|^/api/service-areas\?orpha' >"$work/valgrind.mix"
    awk 'NR % 4 == 1' "$work/valgrind.mix" >"$work/valgrind.after"
    ask_all "$work/valgrind.mix" "$work/valgrind.statuses"
    kill -HUP "$server"
    valgrind_reload=0
    wait_reloads "$work/valgrind.err" 1 && valgrind_reload=1
    ask_all "$work/valgrind.after" "$work/valgrind.statuses"
    kill -TERM "$server"
    valgrind_status=0
    wait "$server" || valgrind_status=$?
    server=
    asked=$(wc -l <"$work/valgrind.statuses")
    valgrind_fives=$(grep -c '^5' "$work/valgrind.statuses" || true)
    valgrind_failed=$(grep -c '^000' "$work/valgrind.statuses" || true)
    summary=$(sed -nE 's/^==[0-9]+== ERROR SUMMARY: ([0-9]+) errors.*/\1/p' "$work/valgrind.err" | tail -1)
    definite=$(sed -nE 's/^==[0-9]+== +definitely lost: ([0-9,]+) bytes.*/\1/p' "$work/valgrind.err" | tail -1)
    indirect=$(sed -nE 's/^==[0-9]+== +indirectly lost: ([0-9,]+) bytes.*/\1/p' "$work/valgrind.err" | tail -1)
    if [ "$valgrind_status" -eq 0 ] && [ "${summary:-1}" -eq 0 ] && [ "$valgrind_fives" -eq 0 ] &&
        [ "$valgrind_failed" -eq 0 ] && [ "$valgrind_reload" -eq 1 ]; then
        verdict=clean
    else
        verdict=FAILED
        grep -E '^==[0-9]+==' "$work/valgrind.err" | head -200 >&2
    fi
    figure[valgrind]="$verdict: $asked requests + 1 reload + SIGTERM, exit $valgrind_status, ${summary:-?} errors, definitely lost ${definite:-0} B, indirectly lost ${indirect:-0} B, $valgrind_fives 5xx, $valgrind_failed failed"
    check "valgrind: no error, no leak, no 5xx ($asked requests, 1 reload)" [ "$verdict" = clean ]
fi

# ---- Evidence ----
mkdir -p "$(dirname "$EVIDENCE")"
{
    printf 'measure\tvalue\n'
    for key in requests req/s latency_p99_ms latency_max_ms 5xx 304 "socket errors" rss_start_mb rss_warm_mb rss_after_mb rss_peak_mb \
        rss_change_pct reloads load valgrind; do
        printf '%s\t%s\n' "$key" "${figure[$key]:-not run}"
    done
} >"$EVIDENCE.tmp"
mv "$EVIDENCE.tmp" "$EVIDENCE"
echo "soak: figures in $EVIDENCE"
if [ ${#failures[@]} -gt 0 ]; then
    echo "soak: ${#failures[@]} check(s) failed" >&2
    exit 1
fi
echo "soak: all checks passed"
