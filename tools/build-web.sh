#!/usr/bin/env bash
# Installs the page's npm packages (pinned by web/package-lock.json) and vendors
# the files the page loads into web/vendor (no CDN). No-op until web/package.json exists.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/install-npm.sh" web
