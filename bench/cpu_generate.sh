#!/usr/bin/env bash
# Prefill (128 tokens) and decode latency of a compiled model on the CPU, at
# 1 and 2 threads, beside ONNX Runtime on the same ONNX file and the
# machine's memory-bandwidth bound for decode. Prints medians of RUNS runs
# and ratios. Not a test: this machine is shared and noisy.
#
#   bench/cpu_generate.sh MODELS_DIR
#
# MODELS_DIR holds llama_perf_prefill/opset17/model.onnx (and
# llama_perf_kv/... for ONNX Runtime's decode), as written by
# ../shared/tools/export_all.py --only llama_perf_prefill,llama_perf_kv.
# ONNX Runtime runs when ORT_NODE points at onnxruntime-node and
# BENCH_ORT at ../shared/tools/bench_ort.js.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${LLMC_BUILD_DIR:-$here/../build}"
models="${1:?usage: bench/cpu_generate.sh MODELS_DIR}"
runs="${RUNS:-5}"
prompt_len=128
new_tokens=65 # 64 decode steps
# Measured on this machine (../shared/reference, issue 5): one-thread and
# two-thread DRAM bandwidth, GB/s (lower ends).
dram_1t=34
dram_2t=64

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
model="$models/llama_perf_prefill/opset17/model.onnx"
echo "== llm-compile $(basename "$(dirname "$(dirname "$model")")")"
calc() { awk "BEGIN {printf \"%.3f\", $1}"; }
start=$(date +%s.%N)
"$build/bin/llm-compile" --quiet "$model" -o "$work/model.llmc"
echo "compile: $(calc "$(date +%s.%N) - $start") s"
weights=$(python3 - "$work/model.llmc" <<'PY'
import json, struct, sys
b = open(sys.argv[1], 'rb').read()
for i in range(struct.unpack_from('<I', b, 12)[0]):
    kind, _, off, size, _ = struct.unpack_from('<IIQQQ', b, 64 + 32 * i)
    if kind == 1:
        print(json.loads(b[off:off + size])['weights']['bytes'])
PY
)
ids=$(seq -s, 1 $prompt_len)

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A prefill decode
for threads in 1 2; do
  for batch in 1 2; do
    args=(--prompt-ids "$ids")
    [ "$batch" = 2 ] && args+=(--prompt-ids "$ids")
    for _ in $(seq "$runs"); do
      "$build/bin/llm-run" "$work/model.llmc" "${args[@]}" \
        --max-new-tokens $new_tokens --threads "$threads"
    done > "$work/out"
    prefill[$threads,$batch]=$(awk '/^prefill:/ {print $2}' "$work/out" | median)
    decode[$threads,$batch]=$(awk '/^decode:/ {print $2}' "$work/out" | median)
  done
done

ort_prefill=() ort_decode=()
if [ -n "${ORT_NODE:-}" ] && [ -n "${BENCH_ORT:-}" ]; then
  for threads in 1 2; do
    ORT_NODE="$ORT_NODE" node "$BENCH_ORT" --threads "$threads" --runs 10 \
      --decode-steps 64 --models "$models" > "$work/ort.json"
    read -r p d < <(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['prefill']['median_ms'], d['decode']['median_ms'])" "$work/ort.json")
    ort_prefill[$threads]=$p ort_decode[$threads]=$d
  done
fi

echo "weights: $weights bytes"
printf '%-34s %12s %12s\n' "" "1 thread" "2 threads"
printf '%-34s %12s %12s\n' "llmc prefill $prompt_len (ms)" "${prefill[1,1]}" "${prefill[2,1]}"
printf '%-34s %12s %12s\n' "llmc decode (ms/token)" "${decode[1,1]}" "${decode[2,1]}"
printf '%-34s %12s %12s\n' "llmc batch 2: prefill (ms)" "${prefill[1,2]}" "${prefill[2,2]}"
printf '%-34s %12s %12s\n' "llmc batch 2: decode (ms/step)" "${decode[1,2]}" "${decode[2,2]}"
bound1=$(calc "$weights / ($dram_1t * 1000000)")
bound2=$(calc "$weights / ($dram_2t * 1000000)")
printf '%-34s %12s %12s\n' "decode bound: weights / DRAM (ms)" "$bound1" "$bound2"
if [ ${#ort_prefill[@]} -gt 0 ]; then
  printf '%-34s %12s %12s\n' "ORT prefill $prompt_len (ms)" "${ort_prefill[1]}" "${ort_prefill[2]}"
  printf '%-34s %12s %12s\n' "ORT decode (ms/token)" "${ort_decode[1]}" "${ort_decode[2]}"
  for t in 1 2; do
    echo "llmc / ORT at $t thread(s): prefill $(calc "${prefill[$t,1]} / ${ort_prefill[$t]}")x," \
      "decode $(calc "${decode[$t,1]} / ${ort_decode[$t]}")x (above 1: slower)"
  done
fi
