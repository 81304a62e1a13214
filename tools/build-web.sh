#!/usr/bin/env bash
# Installs the page's npm packages (pinned by web/package-lock.json) and vendors
# the files the page loads into web/vendor (git-ignored; no CDN, no bundler):
#   vendor/leaflet/      leaflet.js (minified UMD, window.L), leaflet.css, images/
#   vendor/mvt/          @mapbox/vector-tile, @mapbox/point-geometry and pbf as
#                        plain ES modules; the one bare import is rewritten to a
#                        relative path so the browser needs no import map.
# Idempotent; rebuilds into a temporary folder and swaps it in.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/install-npm.sh" web
modules="$root/web/node_modules"
vendor="$root/web/vendor"
stamp="$vendor/.stamp"
if [ -f "$stamp" ] && [ "$stamp" -nt "$root/web/package-lock.json" ] &&
    [ "$stamp" -nt "$modules/.package-lock.json" ] && [ "$stamp" -nt "$0" ]; then
    exit 0
fi
staging=$(mktemp -d "$root/web/.vendor.XXXXXX")
trap 'rm -rf "$staging"' EXIT

mkdir -p "$staging/leaflet/images" "$staging/mvt"
cp "$modules/leaflet/dist/leaflet.js" "$modules/leaflet/dist/leaflet.css" "$staging/leaflet/"
cp "$modules/leaflet/dist/images/"*.png "$staging/leaflet/images/"
cp "$modules/leaflet/LICENSE" "$staging/leaflet/LICENSE"

cp "$modules/pbf/index.js" "$staging/mvt/pbf.js"
cp "$modules/pbf/LICENSE" "$staging/mvt/LICENSE-pbf"
cp "$modules/@mapbox/point-geometry/index.js" "$staging/mvt/point-geometry.js"
cp "$modules/@mapbox/point-geometry/LICENSE" "$staging/mvt/LICENSE-point-geometry"
sed -e "s#from '@mapbox/point-geometry'#from './point-geometry.js'#" \
    "$modules/@mapbox/vector-tile/index.js" >"$staging/mvt/vector-tile.js"
cp "$modules/@mapbox/vector-tile/LICENSE.txt" "$staging/mvt/LICENSE-vector-tile"

# Every import left must be relative: a bare specifier would fail in the browser.
if grep -nE "^\s*import .* from '[^./]" "$staging/mvt/"*.js; then
    echo "build-web: bare import left in web/vendor/mvt (see above)" >&2
    exit 1
fi
touch "$staging/.stamp"
rm -rf "$vendor"
# mv -T never nests the folder; if a concurrent run swapped its own copy in
# first, keep that one (same inputs, same files).
if ! mv -T "$staging" "$vendor" 2>/dev/null; then
    [ -f "$stamp" ] || { echo "build-web: could not install web/vendor" >&2; exit 1; }
    exit 0
fi
trap - EXIT
echo "build-web: vendored leaflet and the MVT decoder into web/vendor" >&2
