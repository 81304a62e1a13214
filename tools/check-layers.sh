#!/usr/bin/env bash
# check-layers.sh — every #include in src/ points to its own layer or one before it.
#
# The folders of src/ are layers in the order data flows (README, "Code map"):
#   base -> store -> build | model -> index | tiles -> dataset -> http -> cli
# A file may include headers of its own folder and of folders of a lower
# rank; folders of one rank (build and model, index and tiles) are
# independent siblings and never include each other. Prints each include
# that breaks the rule and exits 1; exits 0 with one line otherwise.
# Usage: tools/check-layers.sh [SRC_DIR]   (default: src of this repository)
set -uo pipefail
source_dir=${1:-$(dirname "$0")/../src}
declare -A rank=([base]=0 [store]=1 [build]=2 [model]=2 [index]=3 [tiles]=3 [dataset]=4 [http]=5 [cli]=6)
violations=0 files=0
for file in "$source_dir"/*/*.[ch]; do
    folder=${file#"$source_dir"/}; folder=${folder%%/*}
    if [ -z "${rank[$folder]+set}" ]; then
        echo "$file: folder '$folder' is not a known layer"; violations=$((violations + 1)); continue
    fi
    files=$((files + 1))
    while IFS=: read -r line target; do
        dependency=${target%%/*}
        if [ "$dependency" = "$target" ]; then
            echo "$file:$line: #include \"$target\" names no layer folder"; violations=$((violations + 1))
        elif [ -z "${rank[$dependency]+set}" ]; then
            echo "$file:$line: #include \"$target\": unknown layer"; violations=$((violations + 1))
        elif [ "$dependency" != "$folder" ] && [ "${rank[$dependency]}" -ge "${rank[$folder]}" ]; then
            echo "$file:$line: $folder/ must not include $target (layer $dependency/ is not before it)"
            violations=$((violations + 1))
        fi
    done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"' "$file" |
             sed -E 's/^([0-9]+):[^"]*"([^"]+)".*/\1:\2/')
done
if [ "$violations" -gt 0 ]; then
    echo "check-layers: $violations include(s) against the layer order"
    exit 1
fi
echo "check-layers: $files files, every include in its layer or one before it"
