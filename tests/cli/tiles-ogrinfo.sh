#!/usr/bin/env bash
# GDAL's MVT driver (ogrinfo, Debian gdal-bin) opens one tile of each layer
# served by `maillage serve`, finds the layer, its features and fields, and
# places them in Web Mercator where they belong. Prints "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
binary=${MAILLAGE_BINARY:-build/maillage}
database=${MAILLAGE_DATABASE:-build/maillage.sqlite}
work=$(mktemp -d "${TMPDIR:-/tmp}/maillage-tiles-synthetic-XXXXXX")
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

if ! command -v ogrinfo >/dev/null; then
    echo "FAIL: ogrinfo is missing (tools/install-deps.sh build test installs gdal-bin)"
    echo "0 passed, 1 failed"
    exit 1
fi

"$binary" serve --db "$database" --listen 127.0.0.1:0 --threads 2 --access-log off \
    >"$work/server.log" 2>"$work/server.err" &
server_pid=$!
url=
for _ in $(seq 1 600); do
    url=$(sed -nE 's/^maillage: serving \S+ \([0-9]+ sites\) on (http:\S+) in .*/\1/p' "$work/server.log")
    [ -n "$url" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$url" ]; then
    echo "FAIL: server did not start"; cat "$work/server.log" "$work/server.err"
    echo "0 passed, 1 failed"
    exit 1
fi

# Fetches a tile and checks what ogrinfo reports of it.
ogr_opens() { # layer z x y minimum-features field
    local layer=$1 z=$2 x=$3 y=$4 minimum=$5 field=$6
    local file="$work/$layer-$z-$x-$y.mvt"
    local status
    status=$(curl -s -o "$file" -w '%{http_code}' "$url/tiles/$layer/$z/$x/$y.mvt") || return 1
    [ "$status" = 200 ] || { echo "  $layer $z/$x/$y: HTTP $status"; return 1; }
    ogrinfo -ro -al -so "MVT:$file" -oo Z="$z" -oo X="$x" -oo Y="$y" >"$work/info" 2>&1 ||
        { echo "  ogrinfo failed:"; cat "$work/info"; return 1; }
    grep -q "^Layer name: $layer\$" "$work/info" || { echo "  no layer $layer:"; cat "$work/info"; return 1; }
    local count
    count=$(sed -nE 's/^Feature Count: ([0-9]+)/\1/p' "$work/info" | head -1)
    [ "${count:-0}" -ge "$minimum" ] || { echo "  $layer: $count features, expected >= $minimum"; return 1; }
    grep -qE "^$field: " "$work/info" || { echo "  $layer: no field $field:"; cat "$work/info"; return 1; }
    # Extent in EPSG:3857 metres inside the tile (with its buffer).
    local size
    size=$(awk -v z="$z" 'BEGIN { printf "%.6f", 40075016.68557849 / 2 ^ z }')
    local extent
    extent=$(sed -nE 's/^Extent: \((-?[0-9.]+), (-?[0-9.]+)\) - \((-?[0-9.]+), (-?[0-9.]+)\)/\1 \2 \3 \4/p' "$work/info")
    [ -n "$extent" ] || { echo "  $layer: no extent:"; cat "$work/info"; return 1; }
    awk -v e="$extent" -v z="$z" -v x="$x" -v y="$y" -v size="$size" 'BEGIN {
        split(e, v, " "); half = 20037508.342789244; margin = size * 64 / 4096 + 1
        west = -half + x * size; east = west + size; north = half - y * size; south = north - size
        ok = v[1] >= west - margin && v[3] <= east + margin && v[2] >= south - margin && v[4] <= north + margin
        if (!ok) printf "  extent %s outside tile %s/%s/%s\n", e, z, x, y
        exit ok ? 0 : 1 }'
}

# Paris (z10, z14) and Martinique (z12), one tile per layer.
check "ogrinfo opens a sites tile" ogr_opens sites 10 518 352 1 site_id
check "ogrinfo opens a clustered sites tile" ogr_opens sites 5 16 11 1 point_count
check "ogrinfo opens a network tile" ogr_opens network 10 518 352 1 kind
check "ogrinfo opens an areas tile" ogr_opens areas 10 518 352 1 population
check "ogrinfo opens a basemap tile" ogr_opens basemap 6 32 22 2 kind
check "ogrinfo opens an etablissements tile" ogr_opens etablissements 14 8298 5636 1 finess
check "ogrinfo opens a places tile" ogr_opens places 6 32 22 10 rank
check "ogrinfo opens a Martinique areas tile" ogr_opens areas 12 1353 1880 1 code

kill -TERM "$server_pid"
wait "$server_pid"
check "server exits 0" [ $? -eq 0 ]
server_pid=
echo "tiles-ogrinfo: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
