#!/usr/bin/env bash
# tests/cli/help.sh — every option a command parses is in its --help, with
# its default. The options come from the parsers' own source (every string
# literal that is exactly an option name, such as "--listen" in a strcmp()
# or an option table of src/cli/<command>_command.c, plus query_command.c
# for the commands built on it), so adding an option without documenting it
# fails here. Also: `maillage help COMMAND` is COMMAND --help, `maillage
# --help` lists every command, `--version`, and docs/maillage.1 is what
# tools/make-man.mjs makes from these texts. Prints "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
binary=${MAILLAGE_BINARY:-build/maillage}
work=$(mktemp -d "${TMPDIR:-/tmp}/maillage-help-synthetic-XXXXXX")
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
check() { # name, then a command that must succeed
    local name=$1; shift
    if "$@"; then passed=$((passed + 1)); return 0; fi
    failed=$((failed + 1)); echo "FAIL: $name"; return 1
}

# The option names a parser accepts: the string literals of its source that
# are exactly an option ("-k", "--radius-km").
parsed_options() { # source files...
    grep -ohE '"--?[a-z][a-z0-9-]*"' "$@" | tr -d '"' | sort -u
}

# Succeeds when the help text (file) has an option line naming `option`
# ("  --listen ADDRESS:PORT  …" or "  -k, --k N  …") whose description (that
# line and the more indented lines after it) says its default, or that it is
# required; --help only needs its line. Prints why otherwise.
documented() { # help file, option
    awk -v option="$2" '
        function flush() { if (inside && (option == "--help" || tolower(text) ~ /default|required/)) ok = 1; inside = 0 }
        /^ -|^  -|^   -/ {
            flush()
            line = $0; sub(/^ +/, "", line)
            n = split(line, words, /[ ,=]+/)
            for (i = 1; i <= n && words[i] ~ /^-/; i++)
                if (words[i] == option) { inside = 1; found = 1 }
            text = $0; next
        }
        /^    / { if (inside) text = text " " $0; next }
        { flush() }
        END { flush(); if (!found) print "  " option ": no option line"; else if (!ok) print "  " option ": no default stated"; exit !ok }
    ' "$1"
}

# The checker itself: an option missing from a help text, or one without
# its default, must be reported.
printf 'options:\n  --db FILE   the dataset (required)\n  --level L   the level\n                departement or region\n' >"$work/synthetic-help"
check "checker: a documented option passes" documented "$work/synthetic-help" --db
check "checker: an option without its default fails" eval '! documented "$work/synthetic-help" --level >/dev/null'
check "checker: an undocumented option fails" eval '! documented "$work/synthetic-help" --listen >/dev/null'
check "checker: finds the parsers' options" [ "$(printf '%s\n' 'x = strcmp(a, "--out"); {"-k", "k"}, "--usage text"' >"$work/source.c"; parsed_options "$work/source.c" | tr '\n' ' ')" = "--out -k " ]

for command in build serve nearest coverage version routes; do
    sources=("src/cli/${command}_command.c")
    grep -q 'query_command_parse' "src/cli/${command}_command.c" && sources+=(src/cli/query_command.c)
    options=$(parsed_options "${sources[@]}")
    check "$command: the parser accepts options" [ -n "$options" ]
    "$binary" "$command" --help >"$work/$command.help" 2>&1
    check "$command --help exits 0" [ $? -eq 0 ]
    for option in $options; do
        [ "$option" = -h ] && continue # the short form of --help
        check "$command --help documents $option with its default" documented "$work/$command.help" "$option"
    done
    "$binary" help "$command" >"$work/$command.help2" 2>&1
    check "maillage help $command exits 0" [ $? -eq 0 ]
    check "maillage help $command is $command --help" cmp -s "$work/$command.help" "$work/$command.help2"
    "$binary" --help >"$work/usage"
    check "maillage --help lists $command" grep -qE "^  $command " "$work/usage"
done

check "maillage help exits 0" "$binary" help >/dev/null
"$binary" help frobnicate >/dev/null 2>"$work/err"
check "maillage help of an unknown command exits 2" [ $? -eq 2 ]
check "... naming it" grep -q frobnicate "$work/err"
"$binary" >/dev/null 2>&1
check "maillage without a command exits 2" [ $? -eq 2 ]
"$binary" --version >"$work/version"
check "--version exits 0" [ $? -eq 0 ]
check "--version names VERSION" grep -qx "maillage $(cat VERSION)" "$work/version"
check "--version names the database format" grep -qE '^database format: schema version [0-9]+$' "$work/version"
check "--version: the format is store.h's" grep -qE "^#define STORE_SCHEMA_VERSION $(sed -nE 's/^database format: schema version ([0-9]+)$/\1/p' "$work/version")( |$)" src/store/store.h
"$binary" version --frobnicate >/dev/null 2>&1
check "version with an unknown option exits 2" [ $? -eq 2 ]

# The man page is generated from these texts and committed: it must match.
node tools/make-man.mjs "$binary" >"$work/maillage.1"
check "docs/maillage.1 is up to date (make man)" cmp -s "$work/maillage.1" docs/maillage.1 ||
    diff "$work/maillage.1" docs/maillage.1 | head -20
groff -man -ww -z docs/maillage.1 >"$work/groff.log" 2>&1
check "docs/maillage.1: groff -man -ww is silent" [ ! -s "$work/groff.log" ] || cat "$work/groff.log"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
