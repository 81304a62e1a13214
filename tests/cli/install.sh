#!/usr/bin/env bash
# tests/cli/install.sh — `make install DESTDIR=… PREFIX=/usr` into a
# temporary tree installs a maillage that runs: the files are where the
# README says (and nothing of node_modules), `--version` names the version,
# the database format, the data directory and the libraries; `serve` on the
# installed database and page answers /healthz, the page and its vendored
# files, with explicit --db/--web and with the defaults found beside the
# binary; the man page renders without a warning; `make uninstall` removes
# it all. Reuses the objects already built in $BUILD: `make install` links
# its own binary in $BUILD/install/, never rebuilding $BUILD/maillage under
# the other suites. Prints "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
build=${BUILD:-build}
work=$(mktemp -d "${TMPDIR:-/tmp}/maillage-install-synthetic-XXXXXX")
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
has() { grep -qE -- "$1" "$2" || { echo "  no /$1/ in $2:"; head -20 "$2"; return 1; }; }
# GET url: prints "STATUS CONTENT-TYPE" then the body (node is a test dependency; curl may be absent).
get() {
    node -e 'const r = await fetch(process.argv[1]); console.log(r.status, r.headers.get("content-type")); process.stdout.write(await r.text());' \
        --input-type=module "$1"
}

root="$work/root"
prefix=/usr
installed="$root$prefix"
make -s --no-print-directory install DESTDIR="$root" PREFIX="$prefix" BUILD="$build" SAN="${SAN:-0}" \
    >"$work/make.log" 2>&1
check "make install exits 0" [ $? -eq 0 ] || cat "$work/make.log"

for file in bin/maillage share/maillage/maillage.sqlite share/maillage/web/index.html \
    share/maillage/web/embed.html share/maillage/web/js/main.js share/maillage/web/vendor/leaflet/leaflet.js \
    share/maillage/web/vendor/mvt/pbf.js share/maillage/geodata/README.md \
    share/maillage/geodata/network-seeds.csv share/man/man1/maillage.1; do
    check "installs $file" [ -s "$installed/$file" ]
done
check "installs the geodata sources" [ -n "$(ls "$installed/share/maillage/geodata/sources")" ]
check "the binary is executable" [ -x "$installed/bin/maillage" ]
check "no node_modules nor package files in the page" \
    [ -z "$(find "$installed/share/maillage/web" -name node_modules -o -name 'package*.json' -o -name .stamp)" ]
check "nothing outside PREFIX" [ "$(ls -A "$root")" = usr ]

# --version: the version, the database format, the compiled-in data directory, the libraries.
"$installed/bin/maillage" --version >"$work/version" 2>&1
check "--version exits 0" [ $? -eq 0 ]
check "--version names VERSION" has "^maillage $(cat VERSION)\$" "$work/version"
check "--version names the database format" has '^database format: schema version [0-9]+$' "$work/version"
check "--version names the data directory" has "^data directory: $prefix/share/maillage\$" "$work/version"
for library in SQLite SpatiaLite PROJ GEOS libmicrohttpd zlib; do
    check "--version names $library" has "^$library [0-9]+\.[0-9]+" "$work/version"
done
"$installed/bin/maillage" version >"$work/version2" 2>&1
check "maillage version prints the same" cmp -s "$work/version" "$work/version2"

# Starts the installed server; sets server_pid and server_url.
start_server() { # log, arguments...
    local log=$1; shift
    "$installed/bin/maillage" serve --listen 127.0.0.1:0 --threads 2 --access-log off "$@" >"$log" 2>"$log.err" &
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
stop_server() {
    kill -TERM "$server_pid"; wait "$server_pid"
    local status=$?
    [ "$status" -eq 0 ] || { echo "  exit $status after SIGTERM"; return 1; }
}
answers() { # name: healthz, the page, a vendored file and the OpenAPI document
    get "$server_url/healthz" >"$work/$1.healthz"
    check "$1: /healthz ok" has '^200 application/json' "$work/$1.healthz" &&
        check "$1: /healthz status ok" has '"status":"ok"' "$work/$1.healthz"
    get "$server_url/" >"$work/$1.page"
    check "$1: / is the page" has '^200 text/html' "$work/$1.page" &&
        check "$1: / is the installed index.html" cmp -s <(tail -n +2 "$work/$1.page") "$installed/share/maillage/web/index.html"
    get "$server_url/vendor/leaflet/leaflet.js" >"$work/$1.leaflet"
    check "$1: the vendored Leaflet" has '^200 (text|application)/javascript' "$work/$1.leaflet"
    get "$server_url/api/openapi.json" >"$work/$1.openapi"
    check "$1: /api/openapi.json" has '^200 application/json' "$work/$1.openapi"
}

# Explicit paths into the DESTDIR tree (the compiled-in defaults point at
# PREFIX), from another directory so that no ./web is served instead.
repository=$PWD
cd "$work" || exit 1
if check "serve --db --web starts" start_server "$work/explicit.log" \
    --db "$installed/share/maillage/maillage.sqlite" --web "$installed/share/maillage/web"; then
    answers explicit
    check "explicit: SIGTERM exits 0" stop_server
fi
# No --db, no --web: the installed database and page, found beside the binary
# (BINDIR/../share/maillage) since PREFIX itself holds no maillage.
if [ ! -e "$prefix/share/maillage" ]; then
    if check "serve without --db/--web starts" start_server "$work/defaults.log"; then
        answers defaults
        check "defaults: SIGTERM exits 0" stop_server
    fi
    "$installed/bin/maillage" nearest --lat 48.85 --lon 2.35 -k 1 >"$work/nearest" 2>&1
    check "nearest without --db answers from the installed database" has '"results":\[\{"site_id"' "$work/nearest"
fi
cd "$repository" || exit 1

# The man page renders, without a warning.
page="$installed/share/man/man1/maillage.1"
check "the installed man page is docs/maillage.1" cmp -s "$page" docs/maillage.1
groff -man -ww -z "$page" >"$work/groff.log" 2>&1
check "groff -man -ww: no warning" [ $? -eq 0 ] && check "groff -man -ww: silent" [ ! -s "$work/groff.log" ]
if command -v man >/dev/null; then
    MANWIDTH=80 man -l "$page" >"$work/man.txt" 2>"$work/man.err"
    check "man -l renders" has '^NAME' "$work/man.txt" && check "man -l: no warning" [ ! -s "$work/man.err" ]
    check "the man page documents serve --nearest-cache-mb" has 'nearest-cache-mb' "$work/man.txt"
fi

# make uninstall removes what make install put there.
make -s --no-print-directory uninstall DESTDIR="$root" PREFIX="$prefix" BUILD="$build" SAN="${SAN:-0}" \
    >"$work/make.log" 2>&1
check "make uninstall exits 0" [ $? -eq 0 ] || cat "$work/make.log"
check "make uninstall leaves no file" [ -z "$(find "$root" -type f)" ]

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
