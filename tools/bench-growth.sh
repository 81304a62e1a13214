#!/usr/bin/env bash
# bench-growth.sh — `make bench N=10000,100000,1000000`: the whole benchmark
# once per network size, then one table of how each figure grows with N,
# written to BENCHMARKS.md with a chart (docs/bench-growth.svg, drawn here:
# no plotting dependency).
#
#   tools/bench-growth.sh 10000,100000,1000000
#
# Each size runs tools/bench.sh with BENCH_SITES=N (its own synthetic
# network and database, cached in $BUILD/bench/) and BENCH_RECORD, the file
# where every row of its tables lands as "measure<TAB>value"; its full output
# is kept in $BUILD/bench/growth-N.txt. BENCH_GROWTH_REUSE=1 rewrites the
# report from the last runs' records without running them again. The sizes run one after the other on
# the same machine, so compare a row across sizes as a trend, and ratios
# only within one size (they are measured in one run).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
[ $# -eq 1 ] || { echo "usage: $0 N[,N...]" >&2; exit 2; }
IFS=, read -r -a sizes <<<"$1"
for n in "${sizes[@]}"; do
    [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1000 ] || { echo "bench-growth: '$n' is not a size >= 1000" >&2; exit 2; }
done
mkdir -p "$BUILD/bench"
for n in "${sizes[@]}"; do
    record=$BUILD/bench/growth-$n.tsv
    # BENCH_GROWTH_REUSE=1: write the report from the records of the last runs.
    [ "${BENCH_GROWTH_REUSE:-0}" = 1 ] && [ -s "$record" ] && continue
    : >"$record"
    echo "bench-growth: $n sites"
    BENCH_SITES=$n BENCH_RECORD=$PWD/$record BUILD=$BUILD tools/bench.sh | tee "$BUILD/bench/growth-$n.txt"
done

# value N PATTERN: the first recorded value whose measure starts with PATTERN.
value() {
    awk -F'\t' -v p="$2" 'index($1, p) == 1 { print $2; exit }' "$BUILD/bench/growth-$1.tsv"
}
rows=(
    "sites|sites"
    "build s|build s"
    "build peak MB|build peak MB"
    "database MB|database MB"
    "startup to ready line s|startup to ready line s"
    "resident memory MB|resident memory MB (peak"
    "of which in huge pages MB|of which in huge pages"
    "resident MB, shipped-data server (base)|resident memory MB, shipped-data"
    "resident bytes per synthetic site above the base|resident bytes per synthetic site"
    "healthz req/s|healthz req/s"
    "nearest req/s (3 in 4 with a code)|nearest req/s"
    "nearest with code req/s|nearest_coded req/s"
    "PostGIS filtered KNN tps|PostGIS filtered KNN tps"
    "nearest with code / PostGIS|nearest with code / PostGIS"
    "nearest without code req/s|nearest_plain req/s"
    "PostGIS KNN tps|PostGIS KNN tps"
    "nearest without code / PostGIS|nearest without code / PostGIS"
    "nearest / floor by CPU per request|nearest / floor by CPU"
    "Zipf codes / 400 codes|nearest req/s, "
    "covering trees built during the Zipf measure|covering trees built during"
    "bbox req/s (<= 1,000 sites)|bbox req/s"
    "PostGIS bbox tps|PostGIS bbox tps"
    "uncached sites tiles: worst PostGIS/maillage|sites uncached: worst"
    "cached tiles req/s (city views)|cached tiles req/s (city views"
    "cached tiles / healthz|cached tiles / healthz"
    "cached tiles req/s, gzip (city views)|cached tiles req/s, gzip"
    "cached gzip tiles / healthz|cached gzip tiles / healthz"
    "coverage uncached ms (benchmark network)|coverage uncached ms, benchmark"
)
machine="$(nproc) cores ($(sed -nE 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME")"
table() {
    printf '| measure |'; for n in "${sizes[@]}"; do printf ' %s sites |' "$n"; done; echo
    printf '|---|'; for _ in "${sizes[@]}"; do printf -- '---:|'; done; echo
    for row in "${rows[@]}"; do
        printf '| %s |' "${row%%|*}"
        for n in "${sizes[@]}"; do printf ' %s |' "$(value "$n" "${row#*|}")"; done
        echo
    done
}

# Bytes of resident memory per site above a fixed base: the slope between
# the smallest and the largest size.
first=${sizes[0]} last=${sizes[${#sizes[@]} - 1]}
per_site=$(awk -v a="$(value "$first" "resident memory MB (peak")" -v b="$(value "$last" "resident memory MB (peak")" \
    -v n="$first" -v m="$last" 'BEGIN { if (m > n && a != "" && b != "") printf "%.0f", (b - a) * 1048576 / (m - n); else print "NA" }')

# ---- The chart: req/s and memory against N (log scale), plain SVG ----
svg=docs/bench-growth.svg
series() { # PATTERN -> "n value" lines
    for n in "${sizes[@]}"; do echo "$n $(value "$n" "$1")"; done
}
{
    series "nearest_coded req/s" | sed 's/^/a /'
    series "nearest_plain req/s" | sed 's/^/b /'
    series "bbox req/s" | sed 's/^/c /'
    series "resident memory MB (peak" | sed 's/^/m /'
} | awk '
    function x(n) { return 60 + (log(n) - log(nmin)) / (log(nmax) - log(nmin) + 1e-9) * 360 }
    function y(v, top, base) { return base - v / top * 150 }
    $3 != "NA" && $3 != "" { s[$1, ++count[$1]] = $2 " " $3; if ($1 != "m" && $3 > rmax) rmax = $3
        if ($1 == "m" && $3 > mmax) mmax = $3
        if (nmin == "" || $2 < nmin) nmin = $2; if ($2 > nmax) nmax = $2 }
    END {
        rmax = rmax * 1.1 + 1; mmax = mmax * 1.1 + 1
        print "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"480\" height=\"420\" font-family=\"sans-serif\" font-size=\"11\">"
        print "<title>maillage: requests per second and resident memory against the number of sites</title>"
        panel("req/s", rmax, 190, "a b c"); panel("resident MB", mmax, 390, "m")
        print "<text x=\"240\" y=\"412\" text-anchor=\"middle\">sites (log scale)</text>"
        print "</svg>"
    }
    function panel(label, top, base, keys,   k, n, i, j, parts, path, colour, name) {
        print "<line x1=\"60\" y1=\"" base "\" x2=\"420\" y2=\"" base "\" stroke=\"#444\"/>"
        print "<line x1=\"60\" y1=\"" base "\" x2=\"60\" y2=\"" base - 150 "\" stroke=\"#444\"/>"
        print "<text x=\"56\" y=\"" base - 150 "\" text-anchor=\"end\">" int(top) "</text>"
        print "<text x=\"56\" y=\"" base "\" text-anchor=\"end\">0</text>"
        print "<text x=\"64\" y=\"" base - 154 "\">" label "</text>"
        n = split(keys, k, " ")
        for (i = 1; i <= n; i++) {
            colour = k[i] == "a" ? "#00539f" : k[i] == "b" ? "#e66100" : k[i] == "c" ? "#5d3a9b" : "#1a7f37"
            name = k[i] == "a" ? "nearest with code" : k[i] == "b" ? "nearest without code" : k[i] == "c" ? "bbox" : "resident memory"
            path = ""
            for (j = 1; j <= count[k[i]]; j++) {
                split(s[k[i], j], parts, " ")
                path = path (j == 1 ? "M" : " L") sprintf("%.1f %.1f", x(parts[1]), y(parts[2], top, base))
                print "<circle cx=\"" sprintf("%.1f", x(parts[1])) "\" cy=\"" sprintf("%.1f", y(parts[2], top, base)) "\" r=\"3\" fill=\"" colour "\"/>"
                if (i == 1) print "<text x=\"" sprintf("%.1f", x(parts[1])) "\" y=\"" base + 14 "\" text-anchor=\"middle\">" parts[1] "</text>"
            }
            print "<path d=\"" path "\" fill=\"none\" stroke=\"" colour "\" stroke-width=\"2\"/>"
            print "<text x=\"428\" y=\"" base - 140 + (i - 1) * 14 "\" fill=\"" colour "\">" name "</text>"
        }
    }' >"$svg"

{
    cat <<MD
# Benchmarks

Written by \`make bench N=$1\` (tools/bench-growth.sh) on $(date -u +%Y-%m-%d); do not edit by hand.

## Method

Each size is one full \`make bench\` (tools/bench.sh) on a SYNTHETIC network
of that many sites added to the shipped data, generated by
\`tools/synthetic_network.c\` with a fixed seed: wrk on loopback (2 threads,
64 connections, ${BENCH_DURATION:-5} s a run) against \`maillage serve\`; PostGIS 15 + 3.3
(Debian) as the peer on the same sites and the same list of 10,000 queries,
measured with pgbench \`-M prepared\` at the same concurrency, its top 5
checked against ours first; the floor server (no search; 5 geodesics as
long as real answers' and the same answer bytes) in the same run. Machine: $machine, shared with other work: compare
figures inside one column (one run) as ratios, and across columns as a
trend. The full output of each run is in \`$BUILD/bench/growth-N.txt\`.

## Growth with N

$(table)

Resident memory per site above a fixed base (slope from $first to $last
sites): **$per_site bytes** (target <= 300).

![requests per second and resident memory against N](docs/bench-growth.svg)

MD
    if [ -f docs/bench-profile.md ]; then cat docs/bench-profile.md; fi
} >BENCHMARKS.md
echo "bench-growth: wrote BENCHMARKS.md and $svg"
