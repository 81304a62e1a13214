#!/usr/bin/env bash
# The fuzz suite of `make test` (tests/run.sh): every libFuzzer target of
# build/fuzz/ for FUZZ_SMOKE_SECONDS (default 3) on its seed corpus, through
# tests/fuzz/run.sh (evidence in build/fuzz/smoke.tsv, not the `make fuzz`
# one). Prints "N passed, N failed" (one per target).
set -uo pipefail
cd "$(dirname "$0")/../.."
shopt -s nullglob
binaries=(build/fuzz/fuzz_*)
if [ ${#binaries[@]} -eq 0 ]; then
    echo "fuzz: no target in build/fuzz/ (make fuzz-build)"
    echo "0 passed, 1 failed"
    exit 1
fi
FUZZ_SECONDS=${FUZZ_SMOKE_SECONDS:-3} FUZZ_EVIDENCE=build/fuzz/smoke.tsv \
    exec tests/fuzz/run.sh "${binaries[@]}"
