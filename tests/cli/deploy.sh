#!/usr/bin/env bash
# The deployment kit in docs/deploy/: the systemd unit passes
# `systemd-analyze verify` and `serve` tells systemd when it is ready
# (sd_notify); the nginx site passes `nginx -t`; two replicas behind that
# very site (ports, paths and certificate swapped for the test's) answer as
# each replica does, lose no request when one replica is killed under load,
# nor during a rolling reload onto a new database. Everything on 127.0.0.1,
# load bounded in time. Prints "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
binary=$(realpath "${MAILLAGE_BINARY:-build/maillage}")
database=$(realpath "${MAILLAGE_DATABASE:-build/maillage.sqlite}")
work=$(mktemp -d "${TMPDIR:-/tmp}/maillage-deploy-XXXXXX")
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    [ -f "$work/nginx.pid" ] && kill -QUIT "$(cat "$work/nginx.pid")" 2>/dev/null
    sleep 0.2
    rm -rf "$work"
}
trap cleanup EXIT
passed=0 failed=0
check() { # name, then a command that must succeed
    local name=$1; shift
    if "$@"; then passed=$((passed + 1)); return 0; fi
    failed=$((failed + 1)); echo "FAIL: $name"; return 1
}
skip() { echo "SKIP: $*"; }

# --- systemd --------------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
    sed "s|/usr/local/bin/maillage|$binary|" docs/deploy/maillage.service >"$work/maillage.service"
    check "systemd-analyze verify accepts the unit" \
        systemd-analyze verify --man=no "$work/maillage.service"
else
    skip "systemd-analyze is not installed: the unit is not verified"
fi
if command -v python3 >/dev/null; then
    # A stand-in for the service manager: collects what serve sends to NOTIFY_SOCKET.
    python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(60)
with open(sys.argv[2], "w") as out:
    while True:
        message = s.recv(4096).decode()
        out.write(message.replace("\n", " ") + "\n"); out.flush()
        if "STOPPING=1" in message: break
' "$work/notify.sock" "$work/notify.log" &
    listener=$!
    pids+=("$listener")
    for _ in $(seq 50); do [ -S "$work/notify.sock" ] && break; sleep 0.1; done
    NOTIFY_SOCKET="$work/notify.sock" "$binary" serve --db "$database" --listen 127.0.0.1:0 \
        --threads 2 >"$work/notified.log" 2>&1 &
    notified=$!
    pids+=("$notified")
    for _ in $(seq 300); do
        grep -q READY=1 "$work/notify.log" 2>/dev/null && break
        kill -0 "$notified" 2>/dev/null || break
        sleep 0.1
    done
    url=$(sed -nE 's/^maillage: serving \S+ .* on (http:\S+) in .*/\1/p' "$work/notified.log")
    check "READY=1 once the port answers" \
        bash -c "grep -q 'READY=1 STATUS=serving' '$work/notify.log' && curl -sf '$url/healthz' >/dev/null"
    kill -HUP "$notified"
    for _ in $(seq 300); do [ "$(grep -c READY=1 "$work/notify.log")" -ge 2 ] && break; sleep 0.1; done
    check "RELOADING=1 then READY=1 around a reload" \
        bash -c "grep -A1 RELOADING=1 '$work/notify.log' | grep -q READY=1"
    kill -TERM "$notified"
    wait "$notified"
    wait "$listener"
    check "STOPPING=1 at the end" grep -q STOPPING=1 "$work/notify.log"
else
    skip "python3 is not installed: sd_notify is not checked"
fi

# --- nginx in front of two replicas ----------------------------------------
free_port() {
    node -e 'const s = require("net").createServer().listen(0, "127.0.0.1",
        () => { console.log(s.address().port); s.close(); });'
}
start_replica() { # log: sets replica_pid and replica_port
    "$binary" serve --db "$work/live.sqlite" --listen 127.0.0.1:0 --threads 2 \
        --access-log off >"$1" 2>"$1.err" &
    replica_pid=$!
    pids+=("$replica_pid")
    disown "$replica_pid" # killed on purpose below: no "Killed" line from bash
    replica_port=
    for _ in $(seq 600); do
        replica_port=$(sed -nE 's/^maillage: serving .* on http:\/\/127\.0\.0\.1:([0-9]+) in .*/\1/p' "$1")
        [ -n "$replica_port" ] && return 0
        kill -0 "$replica_pid" 2>/dev/null || break
        sleep 0.1
    done
    cat "$1.err"
    return 1
}
if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
    skip "nginx or wrk is not installed (make test-deps installs them)"
    echo "deploy: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]; exit
fi
cp "$database" "$work/live.sqlite"
if ! start_replica "$work/a.log" || { a_pid=$replica_pid a_port=$replica_port; false; } ||
    ! start_replica "$work/b.log"; then
    check "two replicas start" false
    echo "deploy: $passed passed, $failed failed"
    exit 1
fi
b_pid=$replica_pid b_port=$replica_port
https_port=$(free_port) http_port=$(free_port)
mkdir -p "$work/cache" "$work/tls" "$work/temp"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
    -keyout "$work/tls/privkey.pem" -out "$work/tls/fullchain.pem" 2>/dev/null
# The shipped site, with this test's ports and paths (and no IPv6 listener).
sed -e "s|127.0.0.1:8081|127.0.0.1:$a_port|; s|127.0.0.1:8082|127.0.0.1:$b_port|" \
    -e "s|listen 443 ssl http2;|listen 127.0.0.1:$https_port ssl http2;|" \
    -e "s|listen 80;|listen 127.0.0.1:$http_port;|" -e '/listen \[::\]/d' \
    -e "s|/var/cache/nginx/maillage|$work/cache|" -e "s|/etc/ssl/maillage|$work/tls|" \
    docs/deploy/nginx-maillage.conf >"$work/site.conf"
cat >"$work/nginx.conf" <<CONF
daemon on;
user root root;
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/temp/body;
    proxy_temp_path $work/temp/proxy;
    fastcgi_temp_path $work/temp/fastcgi;
    uwsgi_temp_path $work/temp/uwsgi;
    scgi_temp_path $work/temp/scgi;
    include $work/site.conf;
}
CONF
check "nginx -t accepts the shipped site" nginx -t -q -c "$work/nginx.conf" -p "$work"
nginx -c "$work/nginx.conf" -p "$work" 2>>"$work/nginx-error.log"
front=https://127.0.0.1:$https_port
for _ in $(seq 50); do curl -skf "$front/healthz" >/dev/null && break; sleep 0.1; done

# Answers through nginx equal each replica's (status, body, ETag).
paths=(/healthz "/api/nearest?lat=48.5597&lon=3.2994&orpha=232" "/api/nearest?lat=43.6&lon=1.44"
       "/api/structures?bbox=2,48,3,49" "/api/conditions?q=drepanocytose" "/api/places?q=provins"
       /tiles.json /tiles/sites/6/32/22.mvt /tiles/basemap/5/16/11.mvt / /js/main.js)
answer() { # url: status, ETag, body checksum
    curl -sk -o "$work/body" -D "$work/headers" -w '%{http_code}' "$1"
    printf ' %s %s\n' "$(grep -i '^etag:' "$work/headers" | tr -d '\r' | cut -d' ' -f2)" \
        "$(sha256sum <"$work/body" | cut -c1-16)"
}
same=0
for path in "${paths[@]}"; do
    through=$(answer "$front$path")
    if [ "$through" = "$(answer "http://127.0.0.1:$a_port$path")" ] &&
        [ "$through" = "$(answer "http://127.0.0.1:$b_port$path")" ] && [ "${through%% *}" = 200 ]; then
        same=$((same + 1))
    else
        echo "  $path: through nginx $through"
    fi
done
check "answers through nginx equal each replica's (${#paths[@]} routes)" [ "$same" -eq ${#paths[@]} ]
check "gzip passes through" bash -c "curl -sk -H 'Accept-Encoding: gzip' -D - -o /dev/null \
    '$front/api/conditions?q=muco' | grep -qi '^content-encoding: gzip'"
curl -sk -o /dev/null "$front/tiles/sites/5/16/11.mvt"
check "tiles are cached by nginx, as maillage's Cache-Control allows" bash -c \
    "curl -sk -D - -o /dev/null '$front/tiles/sites/5/16/11.mvt' | grep -qi '^x-cache-status: HIT'"

cat >"$work/mix.lua" <<'LUA'
-- wrk: a mix of routes, counting every status that is not 200 or 304.
local paths = {"/api/nearest?lat=48.5597&lon=3.2994&orpha=232", "/api/nearest?lat=45.75&lon=4.85",
    "/api/structures?bbox=2,48,3,49", "/api/conditions?q=muco", "/healthz", "/tiles/sites/7/64/44.mvt"}
local i = 0
request = function()
    i = i + 1
    return wrk.format("GET", paths[i % #paths + 1])
end
local bad = 0
response = function(status) if status ~= 200 and status ~= 304 then bad = bad + 1 end end
done = function(summary)
    local e = summary.errors
    io.write(string.format("requests %d bad %d connect %d read %d write %d timeout %d\n",
        summary.requests, bad, e.connect, e.read, e.write, e.timeout))
end
LUA
# wrk's counters are per thread; one thread keeps `bad` whole.
load() { wrk -t1 -c16 -d"$1" --timeout 5s -s "$work/mix.lua" "$front" 2>&1 | grep '^requests'; }
no_failure() { # wrk summary line
    echo "  $1"
    [[ "$1" =~ ^requests\ ([0-9]+)\ bad\ 0\ connect\ 0\ read\ 0\ write\ 0\ timeout\ 0$ ]] &&
        [ "${BASH_REMATCH[1]}" -gt 100 ]
}

# One replica killed (SIGKILL) under load: nginx retries the other.
load 6s >"$work/kill.txt" &
loader=$!
sleep 2
kill -KILL "$a_pid"
wait "$loader"
check "a replica killed under load fails no request" no_failure "$(cat "$work/kill.txt")"

# A rolling reload onto a new database, under load.
start_replica "$work/a2.log" && a_pid=$replica_pid
sed -i "s|127.0.0.1:$a_port|127.0.0.1:$replica_port|" "$work/site.conf"
a_port=$replica_port
nginx -c "$work/nginx.conf" -p "$work" -s reload 2>/dev/null
sleep 1
cp "$work/live.sqlite" "$work/next.sqlite"
sqlite3 "$work/next.sqlite" "UPDATE metadata SET value = 'rolled-synthetic' WHERE key = 'version'"
version_of() { curl -sf "http://127.0.0.1:$1/healthz" | grep -o '"dataset":"[^"]*"'; }
wait_version() { # port
    for _ in $(seq 100); do [ "$(version_of "$1")" = '"dataset":"rolled-synthetic"' ] && return 0; sleep 0.1; done
    return 1
}
load 6s >"$work/roll.txt" &
loader=$!
sleep 1
mv "$work/next.sqlite" "$work/live.sqlite"
kill -HUP "$a_pid"
wait_version "$a_port"; a_rolled=$?
kill -HUP "$b_pid"
wait_version "$b_port"; b_rolled=$?
wait "$loader"
check "both replicas serve the new database" [ "$a_rolled" -eq 0 ] && [ "$b_rolled" -eq 0 ]
check "a rolling reload fails no request" no_failure "$(cat "$work/roll.txt")"

echo "deploy: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
