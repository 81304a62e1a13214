#!/usr/bin/env bash
# Shell tests of `maillage coverage`: --help, usage errors (exit 2), bad input
# (exit 1 with the problem's detail), and the three formats: json equal to
# the /api/coverage body of a real server, csv with one row per area then the
# territories and France, geojson areas with geometry. Prints "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
binary=${MAILLAGE_BINARY:-$PWD/$BUILD/maillage}
database=${MAILLAGE_DATABASE:-$PWD/$BUILD/maillage.sqlite}
work=$(mktemp -d "${TMPDIR:-/tmp}/maillage-cli-coverage-XXXXXX")
server=
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
passed=0 failed=0
check() { # description command...
    local description=$1; shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $description"; fi
}
run() { "$binary" coverage --db "$database" "$@"; }

help=$("$binary" coverage --help); status=$?
check "--help exits 0" [ $status -eq 0 ]
for option in --db --orpha --filiere --radius-km --level --role --public --format; do
    check "--help documents $option" grep -q -- "$option" <<<"$help"
done
run --orpha 586 --radius-km 50 --format xml 2>/dev/null; check "unknown format exits 2" [ $? -eq 2 ]
run --orpha 586 --radius-km 50 --frobnicate 1 2>/dev/null; check "unknown option exits 2" [ $? -eq 2 ]
"$binary" coverage --orpha 586 --radius-km 50 2>/dev/null; check "missing --db exits 2" [ $? -eq 2 ]
run --orpha 586 --radius-km 0 2>"$work/err"; status=$?
check "radius 0 exits 1" [ $status -eq 1 ]
check "radius 0: the detail, one line" [ "$(wc -l <"$work/err")" -eq 1 ]
run --orpha 586 2>/dev/null; check "missing radius exits 1" [ $? -eq 1 ]
run --filiere NOPE --radius-km 50 2>/dev/null; check "unknown filière exits 1" [ $? -eq 1 ]

# json: byte for byte the server's body.
run --orpha 586 --radius-km 100 >"$work/cli.json"; check "json exits 0" [ $? -eq 0 ]
"$binary" serve --db "$database" --listen 127.0.0.1:0 --access-log off >"$work/serve.out" 2>&1 &
server=$!
for _ in $(seq 1 300); do grep -q serving "$work/serve.out" && break; sleep 0.1; done
url=$(sed -nE 's/.* on (http:[^ ]+) in .*/\1/p' "$work/serve.out")
curl -sf "$url/api/coverage?orpha=586&radius_km=100" >"$work/http.json"; echo >>"$work/http.json"
check "json equals the /api/coverage body" cmp -s "$work/cli.json" "$work/http.json"

# csv: a header, the départements, the six territories and France.
run --orpha 586 --radius-km 100 --format csv >"$work/cli.csv"
departements=$(sqlite3 "$database" "SELECT count(*) FROM departements")
check "csv rows" [ "$(wc -l <"$work/cli.csv")" -eq $((1 + departements + 6 + 1)) ]
check "csv header" grep -q '^level,code,name,territory,region,population,covered_population,share,' "$work/cli.csv"
check "csv France row matches json" node -e '
    const fs = require("fs");
    const json = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    const row = fs.readFileSync(process.argv[2], "utf8").trim().split("\n").pop().split(",");
    if (row[0] !== "france" || Number(row[6]) !== json.total.covered_population) process.exit(1);' \
    "$work/cli.json" "$work/cli.csv"

# geojson: régions with geometry and the same figures.
run --filiere MUCO --radius-km 100 --level region --format geojson >"$work/cli.geojson"
check "geojson régions with geometry" node -e '
    const fs = require("fs");
    const g = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    const ok = g.type === "FeatureCollection" && g.features.length === Number(process.argv[2]) &&
        g.features.every((f) => f.geometry && /Polygon/.test(f.geometry.type) &&
                                f.properties.share >= 0 && f.properties.share <= 1);
    process.exit(ok ? 0 : 1);' "$work/cli.geojson" "$(sqlite3 "$database" "SELECT count(*) FROM regions")"

echo "coverage.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
