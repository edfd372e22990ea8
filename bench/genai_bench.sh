#!/usr/bin/env bash
# ONNX Runtime-style models (examples/models/genai/genai_models.py --perf:
# GroupQueryAttention, SkipSimplifiedLayerNormalization, the genai calling
# convention, at the size of the Llama perf export) with f32 MatMul weights
# and with 4-bit MatMulNBits weights (block 32), compiled by llmc and run
# in ONNX Runtime (bench/genai_ort.js), alternately in one run: prefill of
# 128 tokens, then decode from context 128 to 192; medians of RUNS runs
# over ROUNDS alternations, at 1 and 2 threads. Prints ms and llmc/ORT.
# Not a test: this machine is shared and noisy.
#
#   bench/genai_bench.sh [WORK_DIR]
#
# Environment: RUNS (5), ROUNDS (3), LLMC_BUILD_DIR (build), ORT_NODE (the
# onnxruntime-node package; installed into WORK_DIR from npm if missing).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${LLMC_BUILD_DIR:-$here/../build}"
work="${1:-$here/../build/bench-genai}"
runs="${RUNS:-5}"
rounds="${ROUNDS:-3}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
ort="${ORT_NODE:-$work/ort/node_modules/onnxruntime-node}"
if [ ! -d "$ort" ]; then
  echo "== installing onnxruntime-node 1.30.0 (npm)" >&2
  mkdir -p "$work/ort"
  (cd "$work/ort" && ONNXRUNTIME_NODE_INSTALL=skip npm install --silent \
    onnxruntime-node@1.30.0 > npm.log 2>&1)
fi
models=(genai_llama_perf genai_llama_int4_perf)
if [ ! -f "$work/genai_llama_int4_perf/model.onnx" ]; then
  echo "== writing the models" >&2
  /usr/bin/python3 "$here/../examples/models/genai/genai_models.py" --perf "$work" > /dev/null
fi
for m in "${models[@]}"; do
  out="$work/$m.llmc"
  [ -f "$out" ] && [ "$out" -nt "$build/bin/llm-compile" ] && continue
  echo "== compiling $m" >&2
  "$build/bin/llm-compile" --quiet "$work/$m/model.onnx" -o "$out"
done

declare -A result
field() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(d['prefill_ms']['median'], d['decode_ms']['median'])" "$1"; }
for threads in 1 2; do
  for ((round = 0; round < rounds; ++round)); do
    for m in "${models[@]}"; do
      read -r p d < <(field "$("$build/bin/llmc-bench" "$work/$m.llmc" --threads "$threads" \
        --prompt-len 128 --decode-steps 64 --runs "$runs")")
      result[llmc,$m,$threads,pre]+="$p "; result[llmc,$m,$threads,dec]+="$d "
      read -r p d < <(field "$(ORT_NODE="$ort" node "$here/genai_ort.js" "$work/$m/model.onnx" \
        --threads "$threads" --prompt-len 128 --decode-steps 64 --runs "$runs")")
      result[ort,$m,$threads,pre]+="$p "; result[ort,$m,$threads,dec]+="$d "
    done
  done
done
median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '\n%-22s %3s %12s %12s %8s %12s %12s %8s\n' model T "llmc dec ms" "ORT dec ms" ratio \
  "llmc pre ms" "ORT pre ms" ratio
for m in "${models[@]}"; do
  for threads in 1 2; do
    ld=$(median "${result[llmc,$m,$threads,dec]}"); od=$(median "${result[ort,$m,$threads,dec]}")
    lp=$(median "${result[llmc,$m,$threads,pre]}"); op=$(median "${result[ort,$m,$threads,pre]}")
    printf '%-22s %3s %12.3f %12.3f %8.2f %12.2f %12.2f %8.2f\n' "$m" "$threads" "$ld" "$od" \
      "$(echo "$ld / $od" | bc -l)" "$lp" "$op" "$(echo "$lp / $op" | bc -l)"
  done
done
