#!/usr/bin/env bash
# Vendors the page's npm packages (pinned by web/package-lock.json) into web/vendor.
# No-op until web/package.json exists.
set -euo pipefail
cd "$(dirname "$0")/../web"
[ -f package.json ] || exit 0
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
