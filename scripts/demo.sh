#!/usr/bin/env bash
# Builds llmc (installing what is missing) and runs its main job on bundled
# examples. Today: importing a bundled ONNX Llama export and raising it to
# llm ops (with the raise report), then the graph-level simplification
# pipeline over a decoder layer written in the llm dialect.
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"
llmc_setup

opt="$LLMC_BUILD_DIR/bin/llm-opt"
translate="$LLMC_BUILD_DIR/bin/llm-translate"
example="$LLMC_ROOT/examples/llama_block.mlir"
out=$(mktemp)
trap 'rm -f "$out"' EXIT

model="$LLMC_ROOT/examples/models/llama_tiny/opset17/model.onnx"
llmc_log "llm-translate --import-onnx $(basename "$(dirname "$(dirname "$model")")") | llm-opt --llm-raise --llm-raise-report"
"$translate" --import-onnx "$model" | "$opt" --llm-raise --llm-raise-report -o "$out"
echo "The raised model (batch and sequence dynamic):"
grep -E 'func.func|llm\.(attention|rope|rms_norm)' "$out" | head -5 | cut -c1-160 | sed -E 's/^ +/  /'
echo

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
