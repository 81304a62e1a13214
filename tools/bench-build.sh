#!/usr/bin/env bash
# bench-build.sh — `make bench-build`: times `maillage build` on the shipped
# geodata and with a 1,000,000-site SYNTHETIC network, and prints wall time
# and peak memory against the targets (shipped < 30 s; 1M sites < 90 s and
# < 2 GB), as ratios to target (below 1.00 meets it).
# Environment: BUILD (build or build/san), BENCH_SITES (default 1000000).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SITES=${BENCH_SITES:-1000000}
binary=$BUILD/maillage
generator=$BUILD/tools/synthetic-network
work=$(mktemp -d "${TMPDIR:-/tmp}/maillage-bench-build-XXXXXX")
trap 'rm -rf "$work"' EXIT

# measure NAME COMMAND...: runs it, sets wall (s) and rss (MB).
measure() {
    local name=$1; shift
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f '%e %M' -o "$work/$name.time" "$@"
        read -r wall rss_kb <"$work/$name.time"
        rss=$(awk -v k="$rss_kb" 'BEGIN { printf "%.0f", k / 1024 }')
    else
        local start end
        start=$(date +%s.%N)
        "$@"
        end=$(date +%s.%N)
        wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
        rss=NA
    fi
}

echo "bench-build: shipped geodata"
measure shipped "$binary" build --quiet --geodata geodata --out "$work/shipped.sqlite" \
    --report "$work/shipped.json"
shipped_wall=$wall shipped_rss=$rss

echo "bench-build: generating a $SITES-site synthetic network"
measure generate "$generator" --sites "$SITES" --seed 1 --out "$work/synthetic-network.csv"
generate_wall=$wall

echo "bench-build: shipped geodata + $SITES synthetic sites"
measure big "$binary" build --geodata geodata --out "$work/synthetic.sqlite" \
    --network "$work/synthetic-network.csv" --report "$work/synthetic.json"
big_wall=$wall big_rss=$rss
sites=$(sqlite3 "$work/synthetic.sqlite" "SELECT count(*) FROM sites" 2>/dev/null || echo '?')

ratio() { awk -v v="$1" -v t="$2" 'BEGIN { if (v == "NA") print "NA"; else printf "%.2f", v / t }'; }
echo
printf '%-34s %9s %8s %7s %11s %10s %7s\n' case "wall s" "target" ratio "peak MB" "target" ratio
printf '%-34s %9s %8s %7s %11s %10s %7s\n' "shipped geodata" "$shipped_wall" 30 \
    "$(ratio "$shipped_wall" 30)" "$shipped_rss" - -
printf '%-34s %9s %8s %7s %11s %10s %7s\n' "shipped + $SITES synthetic sites" "$big_wall" 90 \
    "$(ratio "$big_wall" 90)" "$big_rss" 2048 "$(ratio "$big_rss" 2048)"
echo "(synthetic network generated in ${generate_wall} s; $sites sites in the database)"
