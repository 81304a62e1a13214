#!/usr/bin/env bash
# Writes SECURITY.md: tools/security-template.md (threat model, reporting,
# limits), then one section per evidence file of the last runs:
#   build/evidence/fuzz.tsv    target, seconds, executions, crashes, corpus_files (make fuzz)
#   build/evidence/soak.tsv    measure, value (make soak)
#   build/evidence/faults.tsv  case, expected, result (tests/cli/faults.sh, make test)
# A missing file gives "not run" in its section, never a failure; a file
# whose header is not the expected one is shown as it is, with a warning.
# Usage: tools/security-report.sh [OUTPUT]   (default SECURITY.md)
# Environment: EVIDENCE_DIR (default build/evidence).
set -euo pipefail
cd "$(dirname "$0")/.."
output=${1:-SECURITY.md}
evidence=${EVIDENCE_DIR:-build/evidence}
template=tools/security-template.md
temporary="$output.tmp-$$"
trap 'rm -f "$temporary"' EXIT

# markdown_table FILE: the TSV as a Markdown table (first line the header);
# a pipe in a cell is escaped, an empty cell shown as a dash.
markdown_table() {
    awk -F'\t' '
        function cell(text) { gsub(/\|/, "\\|", text); return text == "" ? "-" : text }
        NR == 1 { columns = NF }
        {
            line = "|"
            for (i = 1; i <= columns; i++) line = line " " cell($i) " |"
            print line
            if (NR == 1) {
                line = "|"
                for (i = 1; i <= columns; i++) line = line "---|"
                print line
            }
        }' "$1"
}

# section TITLE FILE EXPECTED_HEADER HOW: a section with the table or "not run".
section() {
    local title=$1 file=$2 expected=$3 how=$4
    echo
    echo "## $title"
    echo
    if [ ! -s "$file" ]; then
        echo "Not run: \`$file\` is missing ($how writes it)."
        return
    fi
    local header
    header=$(head -1 "$file")
    if [ "$header" != "$expected" ]; then
        echo "Warning: \`$file\` has the header \`${header//$'\t'/, }\`, not \`${expected//$'\t'/, }\`."
        echo
    fi
    echo "From \`$file\`, written $(date -u -r "$file" '+%Y-%m-%d %H:%M UTC') by $how."
    echo
    markdown_table "$file"
}

# The counts of the faults run: how many ok, failed, skipped.
faults_summary() {
    local file=$1
    [ -s "$file" ] || return 0
    awk -F'\t' 'NR > 1 {
            if ($3 ~ /^ok/) ok++; else if ($3 ~ /^skipped/) skipped++; else failed++
        }
        END { printf "\n%d cases: %d ok, %d failed, %d skipped.\n", ok + failed + skipped, ok, failed, skipped }' "$file"
}

# The fuzzers: total executions and crashes.
fuzz_summary() {
    local file=$1
    [ -s "$file" ] || return 0
    awk -F'\t' 'NR > 1 { targets++; executions += $3; crashes += $4 }
        END { printf "\n%d targets, %d executions, %d crashes.\n", targets, executions, crashes }' "$file"
}

{
    cat "$template"
    echo
    echo "# Evidence of the last runs"
    section "Fuzzing" "$evidence/fuzz.tsv" $'target\tseconds\texecutions\tcrashes\tcorpus_files' '`make fuzz`'
    fuzz_summary "$evidence/fuzz.tsv"
    section "Soak test" "$evidence/soak.tsv" $'measure\tvalue' '`make soak`'
    section "Faults survived" "$evidence/faults.tsv" $'case\texpected\tresult' \
        '`tests/cli/faults.sh` (run by `make test`)'
    faults_summary "$evidence/faults.tsv"
} >"$temporary"
mv "$temporary" "$output"
trap - EXIT
echo "wrote $output"
