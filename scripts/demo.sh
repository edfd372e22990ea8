#!/usr/bin/env bash
# Builds llmc (installing what is missing) and runs its main job on a bundled
# example. Today: the graph-level simplification pipeline over a Llama
# decoder layer written in the llm dialect (examples/llama_block.mlir).
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"
llmc_setup

opt="$LLMC_BUILD_DIR/bin/llm-opt"
example="$LLMC_ROOT/examples/llama_block.mlir"
out=$(mktemp)
trap 'rm -f "$out"' EXIT

llmc_log "llm-opt --llm-canonicalize $(basename "$example")"
"$opt" "$example" --llm-canonicalize -o "$out"

# Ops per name, before and after, so the effect is visible at a glance.
count_ops() {
  grep -oE '(^|= )(llm|linalg|tensor|arith)\.[a-z_]+' "$1" | sed -E 's/^= //' |
    sort | uniq -c | awk '{printf "  %-22s %s\n", $2, $1}'
}
echo "before:"; count_ops <("$opt" "$example")
echo "after:";  count_ops "$out"
echo
echo "The constant causal mask became the 'causal' flag, the zero bias was dropped,"
echo "and the matmul by a transposed weight became llm.linear:"
grep -E 'llm\.(attention|linear %collapsed)' "$out" | sed -E 's/^ +/  /'
