#!/usr/bin/env bash
# NeuPIMs-style sub-batch interleaving, simulated: the tiny Llama compiled
# for the edge CPU+NPU+PIM preset (linear layers and norms on the NPU,
# decode attention over the KV cache on the PIM), decoding a batch of B
# sequences two ways on the device simulators:
#   naive:       the whole batch as one sequence of device launches
#                (llm-run --threads 1): NPU and PIM take turns;
#   interleaved: two sub-batches of B/2 (llm-run --threads 2), each in
#                order, overlapping on different devices.
# Prints the simulated decode time per token of the device timeline (host
# work not counted) for each, the speedup, and the placement model's own
# interleaving estimate (llm-place interleave=1) for the same batch.
# Simulated figures: deterministic, not machine timings.
#
#   bench/neupims_interleave.sh [WORK_DIR]
#
# Environment: BATCHES ("8 32 64"), PROMPT (96 tokens per sequence), STEPS
# (8 decode steps), LLMC_BUILD_DIR (build).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${LLMC_BUILD_DIR:-$here/../build}"
work="${1:-$build/bench/neupims}"
prompt="${PROMPT:-96}"
steps="${STEPS:-8}"
model="$here/../examples/models/llama_tiny/opset17/model.onnx"
mkdir -p "$work"
context=$((prompt + steps))

printf "%6s %14s %14s %8s %18s\n" batch "naive ms/tok" "interl. ms/tok" speedup "model speedup"
for batch in ${BATCHES:-8 32 64}; do
  artifact="$work/edge-b$batch.llmc"
  "$build/bin/llm-compile" --quiet "$model" -o "$artifact" \
    --target=edge-npu-pim --placement-batch="$batch" \
    --placement-context="$context"
  prompts=()
  for ((b = 1; b <= batch; ++b)); do
    prompts+=(--prompt-ids "$(seq -s, "$b" $((b + prompt - 1)))")
  done
  timeline() {
    "$build/bin/llm-run" "$artifact" "${prompts[@]}" \
      --max-new-tokens $((steps + 1)) --threads "$1" |
      sed -n 's/^simulated device timeline: .*decode \([0-9.]*\) ms\/token.*/\1/p'
  }
  naive=$(timeline 1)
  interleaved=$(timeline 2)
  # The placement model's estimate of the same decode step.
  "$build/bin/llm-translate" --import-onnx "$model" |
    "$build/bin/llm-opt" --llm-raise --llm-synthesize-kv-cache \
      --llm-canonicalize --llm-decompose-moe --llm-fuse-linears \
      --llm-place="target=edge-npu-pim phase=decode batch=$batch context=$context interleave=1 report=$work/place-b$batch.json" \
      -o /dev/null
  model_speedup=$(python3 -c "
import json
f = json.load(open('$work/place-b$batch.json'))['functions'][0]
print('%.2f' % (f['step_us_without_interleave'] / f['step_us']))")
  printf "%6d %14s %14s %8s %18s\n" "$batch" "$naive" "$interleaved" \
    "$(python3 -c "print('%.2fx' % ($naive / $interleaved))")" "${model_speedup}x"
done
