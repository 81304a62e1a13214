#!/usr/bin/env bash
# layers.sh — tools/check-layers.sh passes on src/ and catches an include
# against the layer order (a check that cannot fail would prove nothing).
set -uo pipefail
cd "$(dirname "$0")/../.."
passed=0 failed=0
check() { # name, then a command that must succeed
    local name=$1; shift
    if "$@" >/dev/null 2>&1; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $name"; fi
}
tree=$(mktemp -d); trap 'rm -rf "$tree"' EXIT
check "src/ keeps the layer order" tools/check-layers.sh
mkdir -p "$tree/src/base" "$tree/src/model" "$tree/src/http" "$tree/src/index"
printf '#include "base/a.h"\n' >"$tree/src/model/m.c"
printf '/* ok */\n' >"$tree/src/base/a.h"
check "an include of an earlier layer passes" tools/check-layers.sh "$tree/src"
printf '#include "http/h.h"\n' >"$tree/src/model/up.c"
check "an include of a later layer fails" bash -c "! tools/check-layers.sh '$tree/src'"
rm "$tree/src/model/up.c"; printf '#include "index/i.h"\n' >"$tree/src/index/i.h"
printf '#include "model/m.h"\n' >"$tree/src/index/i.c"; printf '/* */\n' >"$tree/src/model/m.h"
check "index may include model" tools/check-layers.sh "$tree/src"
mkdir -p "$tree/src/tiles"; printf '#include "index/i.h"\n' >"$tree/src/tiles/t.c"
check "siblings (tiles, index) never include each other" bash -c "! tools/check-layers.sh '$tree/src'"
rm "$tree/src/tiles/t.c"; printf '#include "buffer.h"\n' >"$tree/src/base/b.c"
check "an include without a layer folder fails" bash -c "! tools/check-layers.sh '$tree/src'"
echo "layers.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
