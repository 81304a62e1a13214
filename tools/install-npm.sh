#!/usr/bin/env bash
# Installs the npm packages of a folder (web or tests) exactly as its
# package-lock.json pins them, when they are missing or older than the lock.
set -euo pipefail
folder="$(cd "$(dirname "$0")/.." && pwd)/${1:?usage: install-npm.sh web|tests}"
cd "$folder"
[ -f package.json ] || exit 0
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "install-npm: npm ci in ${folder##*/}/" >&2
    npm ci --no-audit --no-fund --loglevel=error
fi
