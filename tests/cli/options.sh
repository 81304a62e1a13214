#!/usr/bin/env bash
# Every `maillage serve` option is used whole or refused at start: for each
# option, a value that cannot be used whole (too long, out of range, not a
# number, a list with a forbidden character or too many entries...) exits
# 2 (1 for what only the system can refuse: a descriptor limit) with one
# message naming the option; and the longest accepted lists (--frame-ancestors
# and --cors-origins at 32 origins, ~1,950 bytes) reach the response headers
# whole. Prints "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
binary=${MAILLAGE_BINARY:-build/maillage}
database=${MAILLAGE_DATABASE:-build/maillage.sqlite}
work=$(mktemp -d "${TMPDIR:-/tmp}/maillage-options-XXXXXX")
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill -KILL "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
passed=0 failed=0
check() { # name, then a command that must succeed
    local name=$1; shift
    if "$@"; then passed=$((passed + 1)); return 0; fi
    failed=$((failed + 1)); echo "FAIL: $name"; return 1
}

# refused STATUS OPTION ARGUMENTS...: serve exits STATUS, one stderr
# message line naming OPTION, before listening (no ready line).
refused() {
    local expected=$1 option=$2; shift 2
    timeout 30 "$binary" serve --listen 127.0.0.1:0 --access-log off "$@" >"$work/out" 2>"$work/err"
    local status=$?
    if [ "$status" -ne "$expected" ] || ! head -1 "$work/err" | grep -qF -- "$option" ||
        grep -q '^maillage: serving' "$work/out"; then
        echo "  exit $status (expected $expected), stderr:"; head -c 400 "$work/err"; echo
        return 1
    fi
}

long() { head -c "$1" /dev/zero | tr '\0' "${2:-a}"; }
long_path="/tmp/$(long 4100)"

"$binary" serve --help >"$work/help"
for option in --max-connections --max-connections-per-ip --connection-timeout --integrity-check; do
    check "--help documents $option" grep -q -- "$option " "$work/help"
done

# Paths: empty or beyond PATH_MAX are refused, never cut.
check "--db empty" refused 2 --db --db ""
check "--db longer than 4095 bytes" refused 2 --db --db "$long_path"
check "--web longer than 4095 bytes" refused 2 --web --db "$database" --web "$long_path"
check "--web empty" refused 2 --web --db "$database" --web ""
check "--access-log longer than 4095 bytes" refused 2 --access-log --db "$database" --access-log "$long_path"
# --listen: anything but a numeric address and a port in 0..65535.
check "--listen with a long host" refused 1 --listen --db "$database" --listen "$(long 300 1).0.0.1:8080"
check "--listen port 65536" refused 1 --listen --db "$database" --listen 127.0.0.1:65536
check "--listen port with a suffix" refused 1 --listen --db "$database" --listen 127.0.0.1:80x
# Numbers: a decimal integer in range, nothing else.
for case in "--threads 0" "--threads 257" "--threads 2x" "--cache-max-age 31536001" \
    "--nearest-cache-mb 65537" "--max-connections 0" "--max-connections 1000001" \
    "--max-connections-per-ip -1" "--connection-timeout 0" "--connection-timeout 3601" \
    "--connection-timeout 99999999999999999999"; do
    set -- $case
    check "$case" refused 2 "$1" --db "$database" "$1" "$2"
done
check "--max-connections-per-ip above --max-connections" \
    refused 2 --max-connections-per-ip --db "$database" --max-connections 10 --max-connections-per-ip 11
check "--max-connections below --threads" \
    refused 2 --threads --db "$database" --threads 4 --max-connections 3
check "--integrity-check maybe" refused 2 --integrity-check --db "$database" --integrity-check maybe
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt 999000 ]; then
    check "--max-connections beyond the descriptor limit" \
        refused 1 --max-connections --db "$database" --max-connections 1000000
fi
# Lists: at most 2,000 bytes and 32 origins, no character that could
# break the header.
origins() { # count width: COUNT origins, each https://WIDTH-chars.example
    local i
    for i in $(seq 1 "$1"); do printf 'https://%s%02d.example,' "$(long "$2" s)" "$i"; done | sed 's/,$//'
}
over_bytes=$(origins 32 60)   # 32 x 79 bytes: over 2,000
over_count=$(origins 33 2)
for option in --frame-ancestors --cors-origins; do
    check "$option over 2,000 bytes" refused 2 "$option" --db "$database" "$option" "$over_bytes"
    check "$option with 33 origins" refused 2 "$option" --db "$database" "$option" "$over_count"
    check "$option with a semicolon" refused 2 "$option" --db "$database" "$option" "https://a.example;x"
    check "$option with a newline" refused 2 "$option" --db "$database" "$option" $'https://a.example\nX-Evil: 1'
    check "$option empty" refused 2 "$option" --db "$database" "$option" ""
done

# The longest accepted lists are used whole.
longest=$(origins 32 50)   # 32 x 69 bytes: cut to whole origins under 2,000
while [ ${#longest} -gt 2000 ]; do longest=${longest%,*}; done
count=$(tr ',' '\n' <<<"$longest" | wc -l)
check "the test list is near the limit (${#longest} bytes, $count origins)" [ "${#longest}" -gt 1900 ]
last=${longest##*,}
"$binary" serve --db "$database" --listen 127.0.0.1:0 --access-log off --threads 1 \
    --frame-ancestors "$longest" --cors-origins "$longest" >"$work/server.log" 2>"$work/server.err" &
server_pid=$!
url=
for _ in $(seq 1 600); do
    url=$(sed -nE 's/^maillage: serving .* on (http:\S+) in .*/\1/p' "$work/server.log")
    [ -n "$url" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if check "starts with both lists at ${#longest} bytes" [ -n "$url" ] && command -v curl >/dev/null; then
    for page in / /embed; do
        curl -s -D "$work/headers" -o /dev/null "$url$page"
        policy=$(grep -i '^content-security-policy:' "$work/headers" | tr -d '\r')
        expected="frame-ancestors 'self' ${longest//,/ }"
        check "$page: Content-Security-Policy ends with the whole list" \
            bash -c '[[ "$1" == *"$2" ]] || { echo "  got: ${1: -120}"; exit 1; }' _ "$policy" "$expected"
    done
    curl -s -D "$work/headers" -o /dev/null -H "Origin: $last" "$url/healthz"
    check "the last of 32 CORS origins is allowed" grep -qiF "access-control-allow-origin: $last" "$work/headers"
    kill -TERM "$server_pid"; wait "$server_pid"
    check "SIGTERM exits 0" [ $? -eq 0 ]
    server_pid=
fi

echo "options.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
