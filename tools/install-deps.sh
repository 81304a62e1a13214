#!/usr/bin/env bash
# Installs the Debian packages of the given groups (build, test, bench) that are
# missing, from tools/debian-packages.txt. Quiet when nothing is missing.
# Not root: prints the exact command to run instead, and fails.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
list="$here/debian-packages.txt"
[ $# -gt 0 ] || set -- build

wanted=()
while read -r package group version; do
    case "$package" in ''|'#'*) continue ;; esac
    for g in "$@"; do [ "$g" = "$group" ] && wanted+=("$package:$version"); done
done < "$list"

missing=()
for entry in "${wanted[@]}"; do
    package=${entry%%:*}; tested=${entry#*:}
    installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Version}' "$package" 2>/dev/null || true)
    case "$installed" in
    "ii "*)
        version=${installed#ii  }; version=${version#ii }; version=${version#*:}
        case "$version" in "$tested"*) ;; *)
            echo "install-deps: note: $package is $version here, tested with $tested" >&2 ;;
        esac ;;
    *) missing+=("$package") ;;
    esac
done

[ ${#missing[@]} -eq 0 ] && exit 0
command="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing Debian packages; run as root:" >&2
    echo "  apt-get update && $command" >&2
    exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends ${missing[*]} >&2
