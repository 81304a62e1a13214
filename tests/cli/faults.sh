#!/usr/bin/env bash
# Faults maillage must survive, each recorded as a row of
# build/evidence/faults.tsv (case, expected, result; read by
# tools/security-report.sh into SECURITY.md):
#  - serve on a database that is missing, truncated, corrupt (random bytes
#    over random pages, several rounds), of an older schema version or
#    built by a newer maillage, or not a database: exit 1 at start with ONE
#    line on standard error naming the file; on SIGHUP with such a file the
#    server keeps serving the old data and logs one line;
#  - serve on a read-only file (mode 0444, in a read-only directory, on a
#    read-only mount when mounting is permitted) starts and answers;
#  - build killed with SIGKILL at random points (and just after its commit,
#    while it packs the sites), or hitting a full disk (small tmpfs mounts;
#    skipped with a message when mounting is not permitted): the previous
#    database is untouched (same checksum) and the next build leaves no
#    stray file in the output directory;
#  - connection limits and idle load (tests/cli/faults-connections.mjs).
# Environment: FAULTS_KILL_ROUNDS (default 5), FAULTS_CORRUPT_ROUNDS (3).
# Prints "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
root=$PWD
binary=${MAILLAGE_BINARY:-$root/build/maillage}
database=${MAILLAGE_DATABASE:-$root/build/maillage.sqlite}
evidence_dir=${EVIDENCE_DIR:-$root/build/evidence}
kill_rounds=${FAULTS_KILL_ROUNDS:-5}
corrupt_rounds=${FAULTS_CORRUPT_ROUNDS:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/maillage-faults-XXXXXX")
mounts=() pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    for mount in "${mounts[@]}"; do umount "$mount" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
passed=0 failed=0
mkdir -p "$evidence_dir"
tsv="$work/faults.tsv"
printf 'case\texpected\tresult\n' >"$tsv"

# record case expected ok|FAILED observed: one row, one count.
record() {
    local name=$1 expected=$2 verdict=$3 observed=$4
    printf '%s\t%s\t%s: %s\n' "$name" "$expected" "$verdict" "${observed//$'\t'/ }" >>"$tsv"
    if [ "$verdict" = ok ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $name: $observed"; fi
}
checksum() { sha256sum "$1" 2>/dev/null | cut -c1-64; }
one_line() { tr '\n' ' ' <"$1" | cut -c1-200; }

# ---- serve at start on a bad file ---------------------------------------

# corrupt FILE PAGES: random bytes over PAGES random pages (never page 1,
# whose header a damaged disk rarely hits and which `truncated` covers).
corrupt() {
    local file=$1 pages=$2 size count page
    size=$(stat -c %s "$file"); count=$((size / 4096))
    for _ in $(seq 1 "$pages"); do
        page=$(( (RANDOM * 32768 + RANDOM) % (count - 1) + 1 ))
        dd if=/dev/urandom of="$file" bs=4096 seek="$page" count=1 conv=notrunc status=none
    done
}

# make_bad KIND FILE: writes a bad database of that kind at FILE.
make_bad() {
    local kind=$1 file=$2
    rm -f "$file"
    case $kind in
    missing) ;;
    empty) : >"$file" ;;
    not-sqlite) printf 'maillage faults: not a database (synthetic)\n' >"$file" ;;
    truncated) head -c "$(( $(stat -c %s "$database") / 2 ))" "$database" >"$file" ;;
    truncated-header) head -c 1000 "$database" >"$file" ;;
    corrupt-*) cp "$database" "$file"; corrupt "$file" 1 ;;
    older-schema) cp "$database" "$file"
        sqlite3 "$file" "UPDATE metadata SET value = '1' WHERE key = 'schema_version'" ;;
    newer-schema) cp "$database" "$file"
        sqlite3 "$file" "UPDATE metadata SET value = '99' WHERE key = 'schema_version'" ;;
    no-schema) cp "$database" "$file"
        sqlite3 "$file" "DELETE FROM metadata WHERE key = 'schema_version'" ;;
    esac
}

bad_kinds=(missing empty not-sqlite truncated truncated-header older-schema newer-schema no-schema)
for round in $(seq 1 "$corrupt_rounds"); do bad_kinds+=("corrupt-$round"); done
if ! command -v sqlite3 >/dev/null; then
    echo "sqlite3 missing: schema cases skipped"
    bad_kinds=(missing empty not-sqlite truncated truncated-header)
fi

for kind in "${bad_kinds[@]}"; do
    file="$work/bad-$kind.sqlite"
    make_bad "$kind" "$file"
    timeout 60 "$binary" serve --db "$file" --listen 127.0.0.1:0 --access-log off \
        >"$work/serve.out" 2>"$work/err"
    status=$?
    lines=$(wc -l <"$work/err")
    verdict=FAILED
    [ "$status" -eq 1 ] && [ "$lines" -eq 1 ] && grep -qF "bad-$kind.sqlite" "$work/err" && verdict=ok
    record "serve at start: $kind database" "exit 1, one line naming the file" "$verdict" \
        "exit $status, $lines line(s): $(one_line "$work/err")"
done

# ---- serve on SIGHUP with a bad file --------------------------------------

start_server() { # log db: sets server_pid, server_url
    local log=$1 db=$2
    "$binary" serve --db "$db" --listen 127.0.0.1:0 --threads 2 --access-log off >"$log" 2>"$log.err" &
    server_pid=$!
    pids+=("$server_pid")
    server_url=
    for _ in $(seq 1 600); do
        server_url=$(sed -nE 's/^maillage: serving \S+ \([0-9]+ sites\) on (http:\S+) in .*/\1/p' "$log")
        [ -n "$server_url" ] && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "server did not start:"; cat "$log" "$log.err"
    return 1
}

live="$work/live.sqlite"
cp "$database" "$live"
old_version=$(sqlite3 "$live" "SELECT value FROM metadata WHERE key = 'version'" 2>/dev/null)
if command -v curl >/dev/null && start_server "$work/reload.log" "$live"; then
    for kind in "${bad_kinds[@]}"; do
        make_bad "$kind" "$work/next.sqlite"
        if [ "$kind" = missing ]; then rm -f "$live"; else mv "$work/next.sqlite" "$live"; fi
        before=$(wc -l <"$work/reload.log.err")
        kill -HUP "$server_pid"
        logged=
        for _ in $(seq 1 300); do
            logged=$(tail -n +"$((before + 1))" "$work/reload.log.err")
            [ -n "$logged" ] && break
            sleep 0.1
        done
        sleep 0.2
        logged=$(tail -n +"$((before + 1))" "$work/reload.log.err")
        lines=$(printf '%s' "$logged" | grep -c '')
        health=$(curl -s "$server_url/healthz")
        verdict=FAILED
        if [ "$lines" -eq 1 ] && grep -q "reload of .* failed, still serving" <<<"$logged" &&
            grep -qF "\"dataset\":\"$old_version\"" <<<"$health" && kill -0 "$server_pid"; then
            verdict=ok
        fi
        record "reload (SIGHUP): $kind database" "old data still served, one line logged" "$verdict" \
            "$lines line(s): ${logged:0:160}; /healthz: $health"
    done
    cp "$database" "$work/good.sqlite"
    sqlite3 "$work/good.sqlite" "UPDATE metadata SET value = 'faults-synthetic' WHERE key = 'version'"
    mv "$work/good.sqlite" "$live"
    kill -HUP "$server_pid"
    health=
    for _ in $(seq 1 300); do
        health=$(curl -s "$server_url/healthz")
        grep -q faults-synthetic <<<"$health" && break
        sleep 0.1
    done
    verdict=FAILED; grep -q faults-synthetic <<<"$health" && verdict=ok
    record "reload (SIGHUP): a good file after the bad ones" "new data served" "$verdict" "/healthz: $health"
    kill -TERM "$server_pid"; wait "$server_pid"; status=$?
    verdict=FAILED; [ "$status" -eq 0 ] && verdict=ok
    record "serve after the faults: SIGTERM" "exit 0" "$verdict" "exit $status"
else
    record "reload (SIGHUP): server start" "starts" FAILED "no server (or no curl)"
fi

# ---- serve on a read-only file -------------------------------------------

readonly_dir="$work/readonly"
mkdir -p "$readonly_dir"
cp "$database" "$readonly_dir/maillage.sqlite"
chmod 0444 "$readonly_dir/maillage.sqlite"
how="mode 0444 in a mode 0555 directory"
if mount -t tmpfs -o size=64m maillage-faults "$readonly_dir" 2>/dev/null; then
    mounts+=("$readonly_dir")
    cp "$database" "$readonly_dir/maillage.sqlite"
    chmod 0444 "$readonly_dir/maillage.sqlite"
    mount -o remount,ro "$readonly_dir" && how="mode 0444 on a read-only tmpfs mount"
fi
chmod 0555 "$readonly_dir" 2>/dev/null
sum_before=$(checksum "$readonly_dir/maillage.sqlite")
if start_server "$work/readonly.log" "$readonly_dir/maillage.sqlite"; then
    health=$(curl -s "$server_url/healthz")
    nearest=$(curl -s -o /dev/null -w '%{http_code}' "$server_url/api/nearest?lat=48.85&lon=2.35")
    kill -TERM "$server_pid"; wait "$server_pid"; status=$?
    leftovers=$(ls -A "$readonly_dir" | grep -v '^maillage.sqlite$' | tr '\n' ' ')
    verdict=FAILED
    grep -q '"status":"ok"' <<<"$health" && [ "$nearest" = 200 ] && [ "$status" -eq 0 ] &&
        [ -z "$leftovers" ] && [ "$(checksum "$readonly_dir/maillage.sqlite")" = "$sum_before" ] && verdict=ok
    record "serve on a read-only database ($how)" "starts, answers, writes nothing" "$verdict" \
        "/healthz ${health:0:60}, /api/nearest $nearest, exit $status, other files: ${leftovers:-none}"
else
    record "serve on a read-only database ($how)" "starts, answers, writes nothing" FAILED "did not start: $(one_line "$work/readonly.log.err")"
fi
chmod 0755 "$readonly_dir" 2>/dev/null
if [ "${#mounts[@]}" -gt 0 ]; then umount "$readonly_dir" && mounts=(); fi

# ---- build killed with SIGKILL -------------------------------------------

out_dir="$work/out"
mkdir -p "$out_dir"
cp "$database" "$out_dir/maillage.sqlite"
echo '{"previous":"report"}' >"$out_dir/report.json"
sum_db=$(checksum "$out_dir/maillage.sqlite")
sum_report=$(checksum "$out_dir/report.json")
build_into() { # directory, extra arguments...: runs a build in the background, sets build_pid
    local directory=$1; shift
    "$binary" build --geodata "$root/geodata" --out "$directory/maillage.sqlite" \
        --report "$directory/report.json" "$@" >"$work/build.out" 2>"$work/build.err" &
    build_pid=$!
    pids+=("$build_pid")
}
stray_files() { ls -A "$1" | grep -vE '^(maillage\.sqlite|report\.json)$' | tr '\n' ' '; }
only_own_temporaries() { # pid, files...: 0 when every file is that build's temporary
    local pid=$1 file; shift
    for file in "$@"; do [[ $file =~ \.tmp-$pid(-journal)?$ ]] || return 1; done
}
# The random kill points fall before the commit: a calibration build into a
# scratch directory times it (a kill after the build has replaced the file
# would test nothing, and on a fast machine the whole build can take under
# two seconds).
mkdir -p "$work/calibration"
calibration_start=$(date +%s%N)
build_into "$work/calibration"
for _ in $(seq 1 6000); do grep -q '^committed' "$work/build.err" && break; kill -0 "$build_pid" 2>/dev/null || break; sleep 0.01; done
commit_seconds=$(awk -v a="$calibration_start" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
wait "$build_pid" 2>/dev/null
latest_kill=$(awk -v c="$commit_seconds" 'BEGIN { l = c * 0.8; if (l > 2) l = 2; if (l < 0.1) l = 0.1; printf "%.2f", l }')
for round in $(seq 1 "$kill_rounds"); do
    # Random points before the commit (reading and loading the inputs, up
    # to 80% of the calibration build's time to its commit, at most 2 s),
    # and in the last round just after the commit (packing).
    build_into "$out_dir"
    if [ "$round" -eq "$kill_rounds" ]; then
        point="after the commit"
        for _ in $(seq 1 6000); do grep -q '^committed' "$work/build.err" && break; kill -0 "$build_pid" 2>/dev/null || break; sleep 0.01; done
    else
        delay=$(awk -v seed="$RANDOM" -v l="$latest_kill" 'BEGIN { srand(seed); printf "%.2f", 0.05 + rand() * (l - 0.05) }')
        point="after $delay s (commit at $commit_seconds s)"
        sleep "$delay"
    fi
    kill -KILL "$build_pid" 2>/dev/null; wait "$build_pid" 2>/dev/null
    strays=$(stray_files "$out_dir")
    verdict=FAILED
    [ "$(checksum "$out_dir/maillage.sqlite")" = "$sum_db" ] &&
        [ "$(checksum "$out_dir/report.json")" = "$sum_report" ] &&
        only_own_temporaries "$build_pid" $strays && verdict=ok
    record "build killed (SIGKILL) $point" "previous database and report untouched; only this build's temporary file left" \
        "$verdict" "checksums $( [ "$verdict" = ok ] && echo same || echo checked); left: ${strays:-nothing}"
done
build_into "$out_dir"
wait "$build_pid"; status=$?
strays=$(stray_files "$out_dir")
verdict=FAILED
[ "$status" -eq 0 ] && [ -z "$strays" ] && [ "$(checksum "$out_dir/maillage.sqlite")" != "$sum_db" ] &&
    grep -q 'left by a build that did not finish' "$work/build.err" && verdict=ok
record "build after the killed ones" "completes, replaces the database, sweeps every stray file" "$verdict" \
    "exit $status; swept $(grep -c 'left by a build that did not finish' "$work/build.err") file(s); left: ${strays:-nothing}"

# ---- build on a full disk -------------------------------------------------

disk="$work/disk"
mkdir -p "$disk"
if mount -t tmpfs -o size=1m maillage-faults "$disk" 2>/dev/null; then
    umount "$disk"
    for size in 1m 4m 12m 24m; do
        mount -t tmpfs -o "size=$size" maillage-faults "$disk" || continue
        mounts+=("$disk")
        # The previous database: a placeholder that fits (the build never reads it).
        head -c 200000 /dev/urandom >"$disk/maillage.sqlite"
        echo '{"previous":"report"}' >"$disk/report.json"
        sum_db=$(checksum "$disk/maillage.sqlite")
        build_into "$disk" --quiet
        wait "$build_pid"; status=$?
        strays=$(stray_files "$disk")
        lines=$(wc -l <"$work/build.err")
        verdict=FAILED
        [ "$status" -ne 0 ] && [ "$lines" -eq 1 ] && [ -z "$strays" ] &&
            [ "$(checksum "$disk/maillage.sqlite")" = "$sum_db" ] && verdict=ok
        record "build on a full disk (tmpfs of $size)" "fails with one line; previous database untouched; no stray file" \
            "$verdict" "exit $status: $(one_line "$work/build.err"); left: ${strays:-nothing}"
        umount "$disk"; mounts=()
    done
else
    echo "mounting a tmpfs is not permitted here: full-disk cases skipped"
    printf '%s\t%s\t%s\n' "build on a full disk" "fails cleanly" "skipped: mounting a tmpfs is not permitted" >>"$tsv"
fi

# ---- connections ------------------------------------------------------------

if command -v node >/dev/null; then
    MAILLAGE_BINARY="$binary" MAILLAGE_DATABASE="$database" node tests/cli/faults-connections.mjs >"$work/connections.tsv" 2>"$work/connections.err"
    while IFS=$'\t' read -r name expected result; do
        verdict=${result%%:*}
        record "$name" "$expected" "$verdict" "${result#*: }"
    done <"$work/connections.tsv"
    [ -s "$work/connections.err" ] && cat "$work/connections.err"
    [ -s "$work/connections.tsv" ] || record "connections" "measured" FAILED "no output: $(one_line "$work/connections.err")"
else
    printf '%s\t%s\t%s\n' "connections" "measured" "skipped: node missing" >>"$tsv"
fi

# The evidence names no path of this machine: the work directory becomes <tmp>.
sed "s|$work|<tmp>|g; s|$root/||g" "$tsv" >"$evidence_dir/faults.tsv"
column -t -s $'\t' "$tsv" 2>/dev/null | cut -c1-220 || cat "$tsv"
echo "faults.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
