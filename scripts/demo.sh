#!/usr/bin/env bash
# Builds llmc (installing what is missing) and runs its main job on bundled
# examples. Today: importing a bundled ONNX Llama export and raising it to
# llm ops (with the raise report); running it through the CPU lowering and
# upstream's JIT against torch's outputs; and the graph-level simplification
# pipeline over a decoder layer written in the llm dialect.
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"
llmc_setup

opt="$LLMC_BUILD_DIR/bin/llm-opt"
translate="$LLMC_BUILD_DIR/bin/llm-translate"
example="$LLMC_ROOT/examples/llama_block.mlir"
out=$(mktemp)
jit=$(mktemp)
trap 'rm -f "$out" "$jit"' EXIT

model="$LLMC_ROOT/examples/models/llama_tiny/opset17/model.onnx"
llmc_log "llm-translate --import-onnx $(basename "$(dirname "$(dirname "$model")")") | llm-opt --llm-raise --llm-raise-report"
"$translate" --import-onnx "$model" | "$opt" --llm-raise --llm-raise-report -o "$out"
echo "The raised model (batch and sequence dynamic):"
grep -E 'func.func|llm\.(attention|rope|rms_norm)' "$out" | head -5 | cut -c1-160 | sed -E 's/^ +/  /'
echo

# The same model with static shapes, lowered to linalg and JIT-compiled:
# the driver feeds torch's test inputs and prints the largest difference
# from torch's logits (and 1 when it is within 1e-4).
llmc_log "import -> raise -> llm-lower-to-linalg -> llm-cpu-to-llvm -> JIT, against torch's outputs"
"$translate" --import-onnx "$model" --input-shape input_ids=1x8 \
  --mlir-elide-resource-strings-if-larger=4294967295 |
  "$opt" --llm-raise --llm-lower-to-linalg |
  sed "/^module {/r $LLMC_ROOT/test/e2e/Inputs/llama_tiny-set0.mlir" |
  "$opt" --llm-cpu-to-llvm -o "$jit"
result=$("$LLVM_PREFIX/bin/mlir-runner" "$jit" -e entry -entry-point-result=void -O2 \
  -shared-libs="$LLVM_PREFIX/lib/libmlir_c_runner_utils.so,$LLVM_PREFIX/lib/libmlir_runner_utils.so" | tail -1)
echo "  [max |llmc - torch| over the logits, within 1e-4]: $result"
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
