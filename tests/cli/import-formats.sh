#!/usr/bin/env bash
# Shell tests of a platform's directory as a spreadsheet saves it: the same
# SYNTHETIC directory saved as UTF-8 with commas, as the French spreadsheet
# export (semicolons, Windows-1252, CRLF, decimal commas), as "CSV UTF-8"
# (byte order mark, semicolons, CRLF) and as Latin-1 builds the same sites,
# codes and links; each format is detected and named in the report, or set
# with --network-format; a row that still cannot be read is rejected with its
# line and a reason a person understands; `--report -` prints a summary.
# Prints "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
binary=${MAILLAGE_BINARY:-$PWD/$BUILD/maillage}
generator=$PWD/$BUILD/tools/synthetic-network
work=$(mktemp -d "${TMPDIR:-/tmp}/maillage-cli-formats-XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
passed=0 failed=0
check() { # description command...
    local description=$1; shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $description"; fi
}

# The directory: only Latin-1 characters (é, ô), so that every format can hold it.
"$generator" --sites 300 --seed 7 --geodata geodata --out "$work/source.csv"
semicolons() { # commas between fields -> semicolons, decimal points in numbers -> commas
    node -e '
        const text = require("fs").readFileSync(process.argv[1], "utf8");
        const fields = (line) => { // RFC 4180 fields of one line (no line break inside quotes here)
            const out = [];
            for (let i = 0; i <= line.length;) {
                const m = line.slice(i).match(/^("(?:[^"]|"")*"|[^,]*)/);
                out.push(m[1]);
                i += m[1].length + 1;
            }
            return out;
        };
        const decimal = (field) => /^-?[0-9]+\.[0-9]+$/.test(field) ? field.replace(".", ",") : field;
        process.stdout.write(text.split("\n").map((line) =>
            line === "" ? line : fields(line).map(decimal).join(";")).join("\n"));' "$1"
}
crlf() { sed 's/$/\r/'; }
variant() { mkdir -p "$work/$1" && cat > "$work/$1/directory.csv"; }

variant utf8 < "$work/source.csv"
semicolons "$work/source.csv" | crlf | iconv -f UTF-8 -t WINDOWS-1252 | variant windows-1252
{ printf '\357\273\277'; semicolons "$work/source.csv" | crlf; } | variant utf8-bom
iconv -f UTF-8 -t ISO-8859-1 < "$work/source.csv" | variant latin-1
check "the Windows-1252 export is not UTF-8" [ "$(iconv -f UTF-8 -t UTF-8 \
    "$work/windows-1252/directory.csv" >/dev/null 2>&1; echo $?)" != 0 ]
check "the export uses decimal commas" grep -q ';4[0-9],[0-9]' "$work/windows-1252/directory.csv"

content() { # the sites, codes and links a database holds, without its version
    sqlite3 "$1" "SELECT site_id, structure_name, role, centre_label, filiere, public, round(lat, 7),
                         round(lon, 7), source, input_line FROM sites ORDER BY site_id;
                  SELECT site_id, orpha_code FROM site_codes ORDER BY 1, 2;
                  SELECT from_site_id, to_site_id, kind FROM links ORDER BY 1, 2, 3;"
}
format_of() { # report.json -> "encoding separator line_end detected" of directory.csv
    node -e '
        const report = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        const input = report.inputs.find((i) => i.file === "directory.csv");
        const f = input.format;
        console.log(`${f.encoding} ${f.separator} ${f.line_end} ${f.bom} ${f.detected}` +
                    ` ${input.rows} ${input.loaded}`);' "$1"
}
build() { # name [options...]
    local name=$1; shift
    "$binary" build --quiet --geodata geodata --out "$work/$name.sqlite" \
        --report "$work/$name.json" "$@"
}

for name in utf8 windows-1252 utf8-bom latin-1; do
    build "$name" --network "$work/$name/directory.csv"
    check "$name builds" [ $? -eq 0 ]
    content "$work/$name.sqlite" > "$work/$name.content"
    check "$name content is read" [ -s "$work/$name.content" ]
done
check "the directory loads whole" [ "$(format_of "$work/utf8.json" | cut -d' ' -f6-)" = "300 300" ]
check "the sites, codes and links hold accents" grep -q 'Hôpital synthétique' "$work/utf8.content"
for name in windows-1252 utf8-bom latin-1; do
    check "$name gives the same database content as UTF-8" \
        cmp -s "$work/utf8.content" "$work/$name.content"
done
check "UTF-8 detected" [ "$(format_of "$work/utf8.json")" = "utf-8 , lf false true 300 300" ]
# Without ‘ ’ € … (0x80..0x9F), Windows-1252 bytes are Latin-1 bytes: named so.
check "the Windows-1252 export detected (semicolons, CRLF, Latin-1 bytes)" \
    [ "$(format_of "$work/windows-1252.json")" = "latin-1 ; crlf false true 300 300" ]
check "CSV UTF-8 detected" [ "$(format_of "$work/utf8-bom.json")" = "utf-8 ; crlf true true 300 300" ]
check "Latin-1 detected" [ "$(format_of "$work/latin-1.json")" = "latin-1 , lf false true 300 300" ]

# Set by hand: the format is used as given, and said so.
build forced --network "$work/latin-1/directory.csv" --network-format latin-1,comma
check "--network-format latin-1,comma builds" [ $? -eq 0 ]
check "a set format is named as set" \
    [ "$(format_of "$work/forced.json")" = "latin-1 , lf false false 300 300" ]
build wrong --network "$work/windows-1252/directory.csv" --network-format utf-8
check "a wrong format still builds" [ $? -eq 0 ]
check "rows a wrong format cannot read are rejected with a reason a person reads" node -e '
    const report = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const input = report.inputs.find((i) => i.file === "directory.csv");
    process.exit(input.rows === input.loaded + input.rejected.length && input.rejected.length > 0 &&
        input.rejected.every((r) => r.line > 1 && /not UTF-8 text.*--network-format/.test(r.reason))
        ? 0 : 1);' "$work/wrong.json"
"$binary" build --quiet --geodata geodata --out "$work/bad.sqlite" --network-format ebcdic \
    2> "$work/bad.err"
check "an unknown format is a usage error" [ $? -eq 2 ]
check "... that lists the formats" grep -q 'windows-1252' "$work/bad.err"

# One byte Windows-1252 does not define: its row only is rejected, with its line.
mkdir -p "$work/undefined"
LC_ALL=C awk 'NR == 5 { sub(/\351/, "\201") } NR == 7 { sub(/\351/, "\222") } { print }' "$work/windows-1252/directory.csv" \
    > "$work/undefined/directory.csv"
"$binary" build --quiet --geodata geodata --out "$work/undefined.sqlite" \
    --network "$work/undefined/directory.csv" --report - > "$work/summary.txt"
check "a file with an undefined byte builds" [ $? -eq 0 ]
check "the summary names the format" grep -q "read as windows-1252, separator ';', CRLF line ends, detected" \
    "$work/summary.txt"
check "the summary counts the rejected row" grep -Eq '^directory\.csv +network +300 +299 +1$' \
    "$work/summary.txt"
check "the summary gives its line and reason" \
    grep -q 'line 5: field 5 holds a byte that is not a character in windows-1252' "$work/summary.txt"
check "the summary has a total" grep -Eq '^total ' "$work/summary.txt"

# The template holds the CONTRACT's columns and no row.
check "the template is a header" [ "$(wc -l < geodata/network-template.csv)" = 1 ]
check "the template builds (no row)" "$binary" build --quiet --geodata geodata \
    --out "$work/template.sqlite" --network geodata/network-template.csv

echo "import-formats: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
