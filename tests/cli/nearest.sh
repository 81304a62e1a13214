#!/usr/bin/env bash
# tests/cli/nearest.sh — `maillage nearest` on the shipped database: the
# seed answers, the same JSON as /api/nearest, exit codes for bad input.
# Environment (from tests/run.sh): MAILLAGE_BINARY, MAILLAGE_DATABASE.
set -uo pipefail
cd "$(dirname "$0")/../.."
binary=${MAILLAGE_BINARY:-build/maillage}
database=${MAILLAGE_DATABASE:-build/maillage.sqlite}
passed=0 failed=0
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

check() { # description, then a command that must succeed
    local description=$1; shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $description"; fi
}

run() { # runs maillage nearest, keeping stdout, stderr and the status
    "$binary" nearest "$@" >"$scratch/out" 2>"$scratch/err"
    echo $? >"$scratch/status"
}
status_is() { [ "$(cat "$scratch/status")" = "$1" ]; }
out_has() { grep -qF -- "$1" "$scratch/out"; }
err_has() { grep -qF -- "$1" "$scratch/err"; }
valid_json() { node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$scratch/out"; }

run --db "$database" --lat 48.5597 --lon 3.2994 --orpha 275752 -k 3
check "Provins, drépanocytose group: exit 0" status_is 0
check "Provins, drépanocytose group: valid JSON" valid_json
check "Provins first" out_has '"results":[{"site_id":"PROVINS-COOP"'
check "orpha_matched names the group" out_has '"orpha_matched":{"orpha":275752,"label":"Drépanocytose et maladies associées"}'

run --db "$database" --lat 48.8566 --lon 2.3522 --orpha 870
check "Paris, trisomy 21: exit 0" status_is 0
check "Paris, trisomy 21: NECKER-MAREP via 96346" out_has '"results":[{"site_id":"NECKER-MAREP","name":"Hôpital universitaire Necker-Enfants malades (AP-HP)","role":"crmr_coordonnateur","centre_label":"Centre de référence des Malformations Ano-Rectales et Pelviennes rares (MAREP)","filiere":"NEUROSPHINX","orpha_matched":{"orpha":96346,"label":"Malformation anorectale"}'

run --db "$database" --lat 48.8566 --lon 2.3522 --role ccmr,crmr --public adultes -k 2
check "role and public filters: exit 0" status_is 0
check "role and public filters echoed" out_has '"role":["crmr","ccmr"],"public":"adultes"'

run --db "$database" --lat 91 --lon 2
check "lat 91: exit 1" status_is 1
check "lat 91: problem detail on stderr" err_has "lat"
check "lat 91: nothing on stdout" test ! -s "$scratch/out"

run --db "$database" --lat 48 --lon 2 --orpha 99999999
check "unknown ORPHAcode: exit 1" status_is 1
check "unknown ORPHAcode: named on stderr" err_has "99999999"

run --db "$database" --lat 48 --lon 2 -k 0
check "k 0: exit 1" status_is 1
run --db "$database" --lat nan --lon 2
check "lat nan: exit 1" status_is 1
run --db "$database" --lat 48 --lat 49 --lon 2
check "repeated --lat: exit 1" status_is 1
run --lat 48 --lon 2
check "no --db: usage, exit 2" status_is 2
run --db "$database" --lat 48 --lon 2 --color blue
check "unknown option: exit 2" status_is 2
run --db "$scratch/missing.sqlite" --lat 48 --lon 2
check "missing database: exit 1" status_is 1
check "missing database: named on stderr" err_has "missing.sqlite"
run --help
check "--help: exit 0" status_is 0

echo "nearest.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
