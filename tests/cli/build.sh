#!/usr/bin/env bash
# Shell tests of `maillage build`: --help, usage errors, a missing geodata
# file (non-zero exit, one line naming it), the JSON report's totals, the
# shipped network (seeds and 2014 CRCM, nothing rejected), the packed
# parts (sites, links, tree order) loading without a warning, and
# atomicity (a build killed with SIGKILL half-way leaves the previous
# database intact, opening with its old version). Prints "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
binary=${MAILLAGE_BINARY:-$PWD/$BUILD/maillage}
generator=$PWD/$BUILD/tools/synthetic-network
work=$(mktemp -d "${TMPDIR:-/tmp}/maillage-cli-build-XXXXXX")
background=
cleanup() {
    [ -n "$background" ] && kill -9 "$background" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
passed=0 failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { # description command...
    local description=$1; shift
    if "$@"; then pass; else fail "$description"; fi
}

# --help documents every option.
help=$("$binary" build --help); status=$?
check "--help exits 0" [ $status -eq 0 ]
for option in --geodata --out --network --network-format --finess --report --quiet; do
    check "--help documents $option" grep -q -- "$option" <<<"$help"
done

# Usage errors: exit 2, one line.
"$binary" build --geodata geodata --out "$work/x.sqlite" --frobnicate 2>"$work/err"; status=$?
check "unknown option exits 2" [ $status -eq 2 ]
check "unknown option: one line" [ "$(wc -l <"$work/err")" -eq 1 ]
"$binary" build --out "$work/x.sqlite" 2>"$work/err"; status=$?
check "missing --geodata exits 2" [ $status -eq 2 ]
check "missing --geodata named" grep -q -- "--geodata" "$work/err"

# A geodata directory lacking communes.csv: non-zero exit, one line naming it, no output.
mkdir "$work/geodata"
for file in geodata/*; do
    [ "$(basename "$file")" = communes.csv ] || ln -s "$PWD/$file" "$work/geodata/"
done
"$binary" build --geodata "$work/geodata" --out "$work/missing.sqlite" 2>"$work/err"; status=$?
check "missing geodata file exits non-zero" [ $status -ne 0 ]
check "missing geodata file: exactly one line" [ "$(wc -l <"$work/err")" -eq 1 ]
check "missing geodata file named" grep -q "^maillage build: .*communes.csv: " "$work/err"
check "no output after a failed build" [ ! -e "$work/missing.sqlite" ]
check "no temporary file left" [ -z "$(ls "$work" | grep tmp- || true)" ]

# A good database with its report: the seeds plus a small synthetic network.
db=$work/maillage.sqlite
"$generator" --sites 2000 --seed 3 --out "$work/synthetic-2k.csv"
"$binary" build --quiet --geodata geodata --out "$db" --report "$work/report.json" \
    --network "$work/synthetic-2k.csv" 2>"$work/err"
check "seed + synthetic build succeeds" [ $? -eq 0 ]
version=$(sqlite3 "$db" "SELECT value FROM metadata WHERE key = 'version'")
# What a server reads instead of parsing tables: the packed sites, their
# links and the spatial index's tree order; loaded without a warning.
check "the build packs the sites, the links and the tree order" [ "$(sqlite3 "$db" \
    "SELECT group_concat(part, ',') FROM (SELECT part FROM packed_sites ORDER BY part)")" = \
    details,links,site_codes,sites,text_pool,tree_order ]
"$binary" nearest --db "$db" --lat 48.85 --lon 2.35 >/dev/null 2>"$work/err"
check "a packed database loads without a warning" [ ! -s "$work/err" ]
check "version is 16 hex digits" grep -qE '^[0-9a-f]{16}$' <<<"$version"
check "report totals add up for every input" node -e '
    const report = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const bad = report.inputs.filter(i => i.rows !== i.loaded + i.rejected.length);
    const kinds = new Set(report.inputs.map(i => i.kind));
    const want = ["network", "finess_extract", "nomenclature", "synonyms", "classification",
                  "communes", "departements", "regions", "filieres", "fsmr_sites"];
    const seeds = report.inputs.find(i => i.file === "network-seeds.csv");
    const synthetic = report.inputs.find(i => i.file === "synthetic-2k.csv");
    if (synthetic.rows !== 2000 || synthetic.loaded !== 2000) process.exit(1);
    const extract = report.inputs.find(i => i.file === "finess-etablissements.csv");
    process.exit(bad.length === 0 && want.every(k => kinds.has(k)) &&
                 report.version === process.argv[2] && seeds.rows === 23 && seeds.loaded === 23 &&
                 extract.rows === 5368 && extract.warnings.length === 27 ? 0 : 1);
' "$work/report.json" "$version"

# The synthetic network: shared positions, real codes, links, "synthetic" names.
check "synthetic sites share positions" [ "$(sqlite3 "$db" "SELECT count(*) > count(DISTINCT \
    lat || ',' || lon) FROM sites WHERE site_id LIKE 'SYNTH-%'")" = 1 ]
check "synthetic sites draw links" [ "$(sqlite3 "$db" "SELECT count(*) > 100 FROM links \
    WHERE from_site_id LIKE 'SYNTH-%'")" = 1 ]
check "synthetic names say so" [ "$(sqlite3 "$db" "SELECT count(*) FROM sites WHERE site_id \
    LIKE 'SYNTH-%' AND structure_name NOT LIKE '%synthétique%'")" = 0 ]
check "synthetic codes mix groups and disorders" [ "$(sqlite3 "$db" "SELECT count(DISTINCT \
    level) FROM site_codes JOIN conditions USING (orpha_code) WHERE site_id LIKE 'SYNTH-%'")" = 2 ]

# The shipped network: the seeds and the 2014 CRCM load together, every row
# loaded and none rejected; the sites are the rows of both files.
"$binary" build --geodata geodata --out "$work/shipped.sqlite" --report "$work/shipped.json" \
    --quiet 2>"$work/err"
check "shipped build exits 0" [ $? -eq 0 ]
for file in network-seeds.csv network-crcm-2014.csv; do
    rows=$(($(wc -l <"geodata/$file") - 1))
    check "$file: $rows rows, all loaded, none rejected" node -e '
        const report = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        const input = report.inputs.find((item) => item.file === process.argv[2]);
        if (!input || input.rows !== Number(process.argv[3]) || input.loaded !== input.rows ||
            input.rejected.length !== 0) process.exit(1);' "$work/shipped.json" "$file" "$rows"
done
check "sites = seeds + CRCM rows" [ "$(sqlite3 "$work/shipped.sqlite" "SELECT count(*) FROM sites")" \
    = $(($(wc -l <geodata/network-seeds.csv) + $(wc -l <geodata/network-crcm-2014.csv) - 2)) ]
check "CRCM in at least 25 départements" [ "$(sqlite3 "$work/shipped.sqlite" "SELECT count(DISTINCT \
    substr(postcode, 1, 2)) FROM sites WHERE site_id LIKE 'CRCM-%'")" -ge 25 ]

# Atomicity: kill -9 a build of a big synthetic network half-way through.
"$generator" --sites 300000 --seed 11 --out "$work/synthetic-300k.csv"
check "synthetic generator" [ -s "$work/synthetic-300k.csv" ]
"$binary" build --geodata geodata --out "$db" --network "$work/synthetic-300k.csv" \
    2>"$work/progress" &
background=$!
killed=0
for _ in $(seq 1 3000); do # at most 300 s
    if grep -q "synthetic-300k.csv: 100000 rows read" "$work/progress"; then
        kill -9 "$background" && killed=1
        break
    fi
    kill -0 "$background" 2>/dev/null || break
    sleep 0.1
done
wait "$background" 2>/dev/null
background=
check "build killed half-way" [ $killed -eq 1 ]
check "previous database keeps its version" \
    [ "$(sqlite3 "$db" "SELECT value FROM metadata WHERE key = 'version'")" = "$version" ]
check "previous database passes integrity_check" \
    [ "$(sqlite3 "$db" "PRAGMA integrity_check")" = ok ]
check "previous database has its 2066 sites" \
    [ "$(sqlite3 "$db" "SELECT count(*) FROM sites")" = 2066 ]
rm -f "$db".tmp-*

# Synthetic generator: deterministic for a seed.
check "generator deterministic" cmp -s <("$generator" --sites 2000 --seed 5) \
    <("$generator" --sites 2000 --seed 5)

echo "build.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
