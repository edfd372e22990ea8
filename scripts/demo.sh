#!/usr/bin/env bash
# Builds llmc (installing what is missing) and runs its main job on a bundled
# ONNX Llama export: what raising recognised, then llm-compile to a .llmc
# artifact (native CPU code, KV-cache prefill/decode entry points, mmap-able
# weights), llm-run generating tokens from it (greedy, sampled, and a
# left-padded batch), and the artifact's logits against torch's; then the
# same model compiled for a heterogeneous machine (DEMO_TARGET, by default
# the edge CPU+NPU+PIM preset): where its ops were placed, the device
# programs, the tokens, and the simulated time per device.
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"
llmc_setup

bin="$LLMC_BUILD_DIR/bin"
model="$LLMC_ROOT/examples/models/llama_tiny/opset17/model.onnx"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
name=$(basename "$(dirname "$(dirname "$model")")")

llmc_log "llm-translate --import-onnx $name | llm-opt --llm-raise --llm-raise-report"
"$bin/llm-translate" --import-onnx "$model" |
  "$bin/llm-opt" --llm-raise --llm-raise-report -o /dev/null
echo

llmc_log "llm-compile $name/model.onnx --target=cpu -o $name.llmc"
"$bin/llm-compile" "$model" --target=cpu -o "$work/$name.llmc"
ls -l "$work/$name.llmc" | awk '{print "  " $5 " bytes"}'
echo

llmc_log "llm-run $name.llmc --prompt-ids 1,2,3 --max-new-tokens 16"
"$bin/llm-run" "$work/$name.llmc" --prompt-ids 1,2,3 --max-new-tokens 16
llmc_log "the same, sampled (temperature 0.8, top-k 40, top-p 0.95, seed 7)"
"$bin/llm-run" "$work/$name.llmc" --prompt-ids 1,2,3 --max-new-tokens 16 \
  --temperature 0.8 --top-k 40 --top-p 0.95 --seed 7
llmc_log "two prompts of different lengths in one left-padded batch, 2 threads"
"$bin/llm-run" "$work/$name.llmc" --prompt-ids 1,2,3 --prompt-ids 7,7 \
  --max-new-tokens 8 --threads 2
echo

llmc_log "the artifact against torch's logits: full prompt, and prefill + token-by-token decode"
"$bin/llmc-model-check" "$work/$name.llmc" \
  "$(dirname "$model")/test_data_set_0" --split
echo

target=${DEMO_TARGET:-edge-npu-pim}
llmc_log "llm-compile $name/model.onnx --target=$target: placement and device programs"
"$bin/llm-compile" "$model" --target="$target" -o "$work/$name.$target.llmc" \
  --llm-placement-report="$work/placement.json" 2>&1 |
  grep -E "placing|programs|wrote" | sed 's/^\[ *[0-9.]* s\] /  /'
python3 - "$work/placement.decode.json" <<'PY' || true
import json, sys, collections
step = json.load(open(sys.argv[1]))["functions"][0]
count = collections.Counter(op["device"] for op in step["ops"])
print("  placement of a decode step (every op, reshapes included): " +
      ", ".join(f"{n} ops on {d}" for d, n in sorted(count.items())) +
      f"; estimated {step['step_us']:.1f} us (all on the host: "
      f"{step['host_only_step_us']:.1f} us)")
PY
llmc_log "llm-run $name.$target.llmc --prompt-ids 1,2,3 --max-new-tokens 16"
"$bin/llm-run" "$work/$name.$target.llmc" --prompt-ids 1,2,3 --max-new-tokens 16
llmc_log "its logits against the CPU target's: full prompt, and prefill + decode"
"$bin/llmc-model-check" "$work/$name.$target.llmc" \
  "$(dirname "$model")/test_data_set_0" --split --against "$work/$name.llmc"
