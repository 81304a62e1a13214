#!/usr/bin/env bash
# `maillage serve` from the command line: --help, usage errors (exit 2),
# fatal errors (exit 1 with a message naming the file), the ready line, and
# a clean exit 0 on SIGTERM and SIGINT. Prints "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
binary=${MAILLAGE_BINARY:-build/maillage}
database=${MAILLAGE_DATABASE:-build/maillage.sqlite}
work=$(mktemp -d "${TMPDIR:-/tmp}/maillage-serve-synthetic-XXXXXX")
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
passed=0 failed=0

check() { # name, then a command that must succeed
    local name=$1; shift
    if "$@"; then passed=$((passed + 1)); return 0; fi
    failed=$((failed + 1)); echo "FAIL: $name"; return 1
}

exit_status() { # expected status, command...: runs it, output to $work/out
    local expected=$1; shift
    "$@" >"$work/out" 2>&1
    local status=$?
    [ "$status" -eq "$expected" ] || { echo "  exit $status, expected $expected: $*"; cat "$work/out"; return 1; }
}

output_has() { grep -qE -- "$1" "$work/out" || { echo "  no /$1/ in:"; cat "$work/out"; return 1; }; }

# Starts a server in the background; sets server_pid and server_url.
start_server() { # log, extra arguments... (serves $serve_db, default $database)
    local log=$1; shift
    "$binary" serve --db "${serve_db:-$database}" --listen 127.0.0.1:0 --threads 2 --access-log off "$@" \
        >"$log" 2>"$log.err" &
    server_pid=$!
    pids+=("$server_pid")
    server_url=
    for _ in $(seq 1 600); do
        server_url=$(sed -nE 's/^maillage: serving \S+ \([0-9]+ sites\) on (http:\S+) in .*/\1/p' "$log")
        [ -n "$server_url" ] && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "  server did not start:"; cat "$log" "$log.err"
    return 1
}

stop_server() { # signal: the server must exit 0
    kill "-$1" "$server_pid"
    wait "$server_pid"
    local status=$?
    [ "$status" -eq 0 ] || { echo "  exit $status after SIG$1"; cat "$work/server.log.err"; return 1; }
}

check "--help exits 0" exit_status 0 "$binary" serve --help
for option in --db --listen --web --threads --cors-origins --frame-ancestors --access-log --cache-max-age --nearest-cache-mb --watch; do
    check "--help documents $option" output_has "$option"
done
check "--db is required" exit_status 2 "$binary" serve
check "unknown option" exit_status 2 "$binary" serve --db "$database" --frobnicate
check "--threads 0" exit_status 2 "$binary" serve --db "$database" --threads 0
check "--threads text" exit_status 2 "$binary" serve --db "$database" --threads many
check "--cache-max-age -1" exit_status 2 "$binary" serve --db "$database" --cache-max-age -1
check "--nearest-cache-mb -1" exit_status 2 "$binary" serve --db "$database" --nearest-cache-mb -1
check "--nearest-cache-mb 1e3" exit_status 2 "$binary" serve --db "$database" --nearest-cache-mb 1e3
check "--cors-origins with a quote" exit_status 2 "$binary" serve --db "$database" --cors-origins 'https://a.example"'
check "--frame-ancestors with ;" exit_status 2 "$binary" serve --db "$database" --frame-ancestors "'self'; script-src *"
check "option without its value" exit_status 2 "$binary" serve --db
check "missing database exits 1" exit_status 1 "$binary" serve --db "$work/missing-synthetic.sqlite" --listen 127.0.0.1:0
check "...naming the file" output_has "missing-synthetic.sqlite"
printf 'not a database (synthetic)\n' >"$work/broken-synthetic.sqlite"
check "broken database exits 1" exit_status 1 "$binary" serve --db "$work/broken-synthetic.sqlite" --listen 127.0.0.1:0
check "...naming the file" output_has "broken-synthetic.sqlite"
check "missing --web directory exits 1" exit_status 1 "$binary" serve --db "$database" --web "$work/no-web" --listen 127.0.0.1:0
check "unwritable access log exits 1" exit_status 1 "$binary" serve --db "$database" --access-log "$work/no/dir/log" --listen 127.0.0.1:0
check "bad --listen" exit_status 1 "$binary" serve --db "$database" --listen nowhere:port

if check "starts and prints the ready line" start_server "$work/server.log" --access-log "$work/access.log"; then
    check "ready line names version, sites, URL and time" \
        grep -qE '^maillage: serving [0-9a-zA-Z._-]+ \([0-9]+ sites\) on http://127\.0\.0\.1:[0-9]+ in [0-9.]+ s$' "$work/server.log"
    port=${server_url##*:}
    check "a busy port exits 1" exit_status 1 "$binary" serve --db "$database" --listen "127.0.0.1:$port"
    check "...saying why" output_has "cannot listen"
    if command -v curl >/dev/null; then
        check "answers /healthz" bash -c "curl -sf '$server_url/healthz' | grep -q '\"status\":\"ok\"'"
        check "--access-log FILE gets a line" bash -c "sleep 0.2; grep -qE ' GET /healthz 200 [0-9]+ [0-9]+$' '$work/access.log'"
    fi
    check "SIGTERM exits 0" stop_server TERM
fi
# --watch: replacing the file (copy + rename, as `maillage build` does) reloads it.
if command -v sqlite3 >/dev/null && command -v curl >/dev/null; then
    cp "$database" "$work/live.sqlite"
    cp "$database" "$work/next.sqlite"
    sqlite3 "$work/next.sqlite" "UPDATE metadata SET value = 'watched-synthetic' WHERE key = 'version'"
    if serve_db="$work/live.sqlite" check "starts with --watch" start_server "$work/watch.log" --watch; then
        mv "$work/next.sqlite" "$work/live.sqlite"
        watched() {
            for _ in $(seq 1 300); do
                curl -sf "$server_url/healthz" | grep -q '"dataset":"watched-synthetic"' && return 0
                sleep 0.1
            done
            cat "$work/watch.log.err"
            return 1
        }
        check "--watch reloads a replaced file" watched
        check "...and says so" grep -q "changed, reloading" "$work/watch.log.err"
        kill -TERM "$server_pid"
        wait "$server_pid"
        check "--watch server exits 0" test $? -eq 0
    fi
fi
if check "starts with one thread" start_server "$work/one.log" --threads 1 --access-log -; then
    if command -v curl >/dev/null; then
        check "one thread answers" bash -c "curl -sf '$server_url/healthz' >/dev/null"
        check "--access-log - writes to standard output" bash -c "sleep 0.2; grep -q ' GET /healthz 200 ' '$work/one.log'"
    fi
    check "one thread: SIGTERM exits 0" stop_server TERM
fi
if check "starts again" start_server "$work/server.log"; then
    check "SIGINT exits 0" stop_server INT
    check "...and says it stopped" grep -q "maillage: stopped" "$work/server.log.err"
fi

echo "serve.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
