#!/usr/bin/env bash
# Runs every test suite and prints one closing line "N passed, N failed".
#   unit:   the C test binaries given as arguments (each prints "N passed, N failed")
#   cli:    tests/cli/*.sh, shell tests of the `maillage` commands (and of the layer order)
#   http:   tests/http/*.test.mjs, Node's test runner against a real server
#   browser: tests/browser/*.test.mjs (Chromium), when web/ has its packages
#   fuzz:   tests/fuzz/smoke.sh, each libFuzzer target a few seconds (plain build only)
# Environment: BUILD (build or build/san), SAN.
set -uo pipefail
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-build} SAN=${SAN:-0}
export MAILLAGE_BINARY="$PWD/$BUILD/maillage" MAILLAGE_DATABASE="$PWD/$BUILD/maillage.sqlite"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
passed=0 failed=0 log=$(mktemp)
trap 'rm -f "$log"' EXIT

count() { # adds the counts of the last "N passed, N failed" line of $log
    local line p f
    line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    p=$(sed -nE 's/^(.*[^0-9])?([0-9]+) passed, ([0-9]+) failed.*/\2/p' <<<"$line")
    f=$(sed -nE 's/^(.*[^0-9])?([0-9]+) passed, ([0-9]+) failed.*/\3/p' <<<"$line")
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
    if [ "$1" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then failed=$((failed + 1)); fi
}

suite() { # name command...
    local name=$1; shift
    echo "== $name"
    "$@" >"$log" 2>&1; local status=$?
    cat "$log"
    count $status
    [ $status -eq 0 ] || echo "!! $name exited with status $status"
}

for binary in "$@"; do suite "unit $(basename "$binary")" "$binary"; done
for script in tests/cli/*.sh; do
    [ -e "$script" ] && suite "cli $(basename "$script")" bash "$script"
done

node_suite() { # name files...: runs Node's test runner, converts its totals
    local name=$1; shift
    echo "== $name"
    node --test --test-reporter=tap "$@" >"$log" 2>&1; local status=$?
    grep -vE '^\s*(#|ok|TAP|1\.\.|---|\.\.\.|duration_ms|type)' "$log" | grep -E 'not ok|Error|expected|actual' | head -40
    local p f
    p=$(sed -nE 's/^# pass ([0-9]+)/\1/p' "$log" | tail -1)
    f=$(sed -nE 's/^# fail ([0-9]+)/\1/p' "$log" | tail -1)
    echo "$name: ${p:-0} passed, ${f:-0} failed"
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
    if [ $status -ne 0 ] && [ "${f:-0}" -eq 0 ]; then failed=$((failed + 1)); fi
}
shopt -s nullglob
http_tests=(tests/http/*.test.mjs)
[ ${#http_tests[@]} -gt 0 ] && node_suite http "${http_tests[@]}"
browser_tests=(tests/browser/*.test.mjs)
if [ ${#browser_tests[@]} -gt 0 ]; then
    if [ "$SAN" = 1 ]; then echo "== browser: run in the plain build only"; else node_suite browser "${browser_tests[@]}"; fi
fi
if [ "$SAN" = 1 ]; then echo "== fuzz: run in the plain build only"; else suite "fuzz" bash tests/fuzz/smoke.sh; fi

echo
echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
