#!/usr/bin/env bash
# Runs libFuzzer targets, each for FUZZ_SECONDS on its seed corpus, and
# records what they did. Used by `make fuzz` (FUZZ_SECONDS, default 300) and,
# for a few seconds each, by tests/fuzz/smoke.sh (`make test`).
#   tests/fuzz/run.sh build/fuzz/fuzz_request build/fuzz/fuzz_csv ...
# Each target reads tests/fuzz/<target>/ (the checked-in seeds, never
# written) and a scratch directory that receives the inputs it adds, with
# tests/fuzz/<target>.dict when present and the -max_len below. Crash
# (and slow-unit) inputs are kept in build/fuzz/artifacts/<target>/, logs in
# build/fuzz/logs/<target>.log. Writes FUZZ_EVIDENCE (default
# build/evidence/fuzz.tsv): target, seconds (wall clock, the target's set-up
# included), executions
# (stat::number_of_executed_units), crashes (crash, leak, timeout and
# out-of-memory inputs; libFuzzer stops at the first), corpus_files (seeds
# plus the inputs the run added). Prints one line per target and
# "N passed, N failed"; exits 1 when a target crashed or could not run.
# Environment: FUZZ_SECONDS, FUZZ_EVIDENCE, MAILLAGE_FUZZ_DATABASE (the
# route targets' dataset, default build/maillage.sqlite).
set -uo pipefail
cd "$(dirname "$0")/../.."
seconds=${FUZZ_SECONDS:-300}
evidence=${FUZZ_EVIDENCE:-build/evidence/fuzz.tsv}
export MAILLAGE_FUZZ_DATABASE=${MAILLAGE_FUZZ_DATABASE:-build/maillage.sqlite}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

max_len() { # the largest input worth trying, per target
    case "$1" in
    request) echo 4096 ;;  # a request line beyond ~12 KB is refused by libmicrohttpd
    tiles) echo 512 ;;
    csv | finess) echo 8192 ;;
    packed) echo 65536 ;;  # the four packed parts of the test network
    text) echo 1024 ;;
    tree_order) echo 4096 ;;  # the test network's order is 808 bytes
    *) echo 4096 ;;
    esac
}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$(dirname "$evidence")" build/fuzz/logs
printf 'target\tseconds\texecutions\tcrashes\tcorpus_files\n' >"$evidence.tmp"
passed=0 failed=0
for binary in "$@"; do
    target=$(basename "$binary"); target=${target#fuzz_}
    seeds=tests/fuzz/$target
    corpus=$scratch/$target/corpus artifacts=$scratch/$target/artifacts
    log=build/fuzz/logs/$target.log
    mkdir -p "$corpus" "$artifacts"
    options=(-max_total_time="$seconds" -print_final_stats=1 -max_len="$(max_len "$target")"
             -timeout=30 -artifact_prefix="$artifacts/")
    [ -f "tests/fuzz/$target.dict" ] && options+=(-dict="tests/fuzz/$target.dict")
    start=$(date +%s)
    "$binary" "${options[@]}" "$corpus" "$seeds" >"$log" 2>&1
    status=$?
    elapsed=$(($(date +%s) - start))
    executions=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -1)
    crashes=$(find "$artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
        -o -name 'oom-*' \) | wc -l)
    if [ -n "$(ls -A "$artifacts")" ]; then
        mkdir -p "build/fuzz/artifacts/$target"
        cp "$artifacts"/* "build/fuzz/artifacts/$target/"
    fi
    [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ] && crashes=1
    files=$(($(find "$seeds" -type f | wc -l) + $(find "$corpus" -type f | wc -l)))
    printf '%s\t%s\t%s\t%s\t%s\n' "$target" "$elapsed" "${executions:-0}" "$crashes" "$files" \
        >>"$evidence.tmp"
    echo "fuzz $target: ${executions:-0} executions in ${elapsed} s, $crashes crashes, $files corpus files"
    if [ "$status" -eq 0 ] && [ "$crashes" -eq 0 ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "!! fuzz $target failed (status $status); log $log, inputs build/fuzz/artifacts/$target/"
        grep -E 'ERROR|SUMMARY|runtime error|fuzz check failed' "$log" | head -5
    fi
done
mv "$evidence.tmp" "$evidence"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
