#!/usr/bin/env bash
# Quantized decode benchmark: the Llama-style perf export (15M parameters,
# ../shared/tools/export_all.py) compiled with f32 weights and with each
# weight quantization scheme, measured in one run with llmc-bench
# (prefill of PROMPT tokens, then 64 decode steps from that context;
# medians of RUNS runs), at 1 and 2 threads, the schemes alternating.
# Prints decode ms/token, its ratio to llmc f32, prefill ms, and the
# weights each token streams. Not a test: this machine is shared and noisy.
#
#   bench/quant_bench.sh [WORK_DIR]
#
# Environment: RUNS (7), ROUNDS (3: alternations, the median is taken),
# SCHEMES ("int8 int4 w8a8 w4a8 int2-a8 int2-lut ternary ternary-lut bitmod4
# kv8 w4a8-kv8"; -lut: the T-MAC lookup-table kernels, the issue's "2-bit
# LUT" and "ternary LUT" rows),
# PROMPT (128: the context decode starts from; the KV cache schemes matter
# at long ones, e.g. 1536), LLMC_BUILD_DIR (build), SHARED_TOOLS
# (../shared/tools).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${LLMC_BUILD_DIR:-$here/../build}"
tools="${SHARED_TOOLS:-$here/../../shared/tools}"
work="${1:-$here/../build/bench}"
runs="${RUNS:-7}"
rounds="${ROUNDS:-3}"
prompt="${PROMPT:-128}"
schemes=(f32 ${SCHEMES:-int8 int4 w8a8 w4a8 int2-a8 int2-lut ternary ternary-lut bitmod4 kv8 w4a8-kv8})
mkdir -p "$work"
work="$(cd "$work" && pwd)"
model="$work/models/llama_perf_kv/opset17/model.onnx"
if [ ! -f "$model" ]; then
  echo "== exporting the perf model" >&2
  OUT_DIR="$work/models" /usr/bin/python3 "$tools/export_all.py" \
    --only llama_perf_kv > "$work/export.log" 2>&1
fi
for scheme in "${schemes[@]}"; do
  out="$work/perf-$scheme.llmc"
  [ -f "$out" ] && [ "$out" -nt "$build/bin/llm-compile" ] && continue
  echo "== compiling $scheme" >&2
  quantize=()
  [ "$scheme" = f32 ] || quantize=(--quantize="$scheme")
  "$build/bin/llm-compile" --quiet "$model" "${quantize[@]}" -o "$out"
done

declare -A prefill decode
for threads in 1 2; do
  for ((round = 0; round < rounds; ++round)); do
    for scheme in "${schemes[@]}"; do
      line=$("$build/bin/llmc-bench" "$work/perf-$scheme.llmc" \
        --threads "$threads" --prompt-len "$prompt" --decode-steps 64 --runs "$runs")
      read -r p d < <(echo "$line" | python3 -c \
        "import json,sys; d=json.load(sys.stdin); print(d['prefill_ms']['median'], d['decode_ms']['median'])")
      prefill[$scheme,$threads]+="$p "
      decode[$scheme,$threads]+="$d "
    done
  done
done
median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '\n%-16s %10s %10s %10s %10s %10s %10s %10s\n' scheme "artifact MB" \
  "dec 1T ms" "x f32" "dec 2T ms" "x f32" "pre 1T ms" "pre 2T ms"
for scheme in "${schemes[@]}"; do
  mb=$(stat -c %s "$work/perf-$scheme.llmc" | awk '{printf "%.1f", $1 / 1e6}')
  d1=$(median "${decode[$scheme,1]}"); d2=$(median "${decode[$scheme,2]}")
  f1=$(median "${decode[f32,1]}"); f2=$(median "${decode[f32,2]}")
  printf '%-16s %10s %10.3f %10.2f %10.3f %10.2f %10.2f %10.2f\n' "$scheme" "$mb" \
    "$d1" "$(awk "BEGIN {print $d1 / $f1}")" "$d2" "$(awk "BEGIN {print $d2 / $f2}")" \
    "$(median "${prefill[$scheme,1]}")" "$(median "${prefill[$scheme,2]}")"
done
echo
echo "artifact MB: code + weights. llama.cpp on this"
echo "machine class, same model, 2 threads (issue 8): q8_0 0.54, q4_0 0.42 ms/token."
