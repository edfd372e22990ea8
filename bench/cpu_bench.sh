#!/usr/bin/env bash
# CPU benchmark: llmc against ONNX Runtime on the Llama-style perf export
# (15M parameters, ../shared/tools/export_all.py), and against the
# machine's limits measured in the same run. Not a test: this machine is
# shared and noisy; it prints medians of RUNS runs and ratios.
#
#   bench/cpu_bench.sh [WORK_DIR]
#
# 1. Exports the perf models (prefill graph, KV graph) into WORK_DIR if
#    missing, and installs onnxruntime-node 1.30.0 there from npm if missing.
# 2. Measures the FMA peak and the read bandwidth at 1 and 2 threads.
# 3. For 1 and 2 threads, alternately: llmc (llmc-bench: warm prefill of
#    PROMPT tokens, then decode from context PROMPT to PROMPT+64) and ONNX
#    Runtime (bench_ort.js, the same measurement).
# 4. GEMM (M = PROMPT) and GEMV (M = 1) microbenchmarks over the model's
#    linear-layer shapes.
# 5. With SCALING=1: prefill at T = 512 and 2048 and decode at context 2048
#    on a re-export with 2048 positions (llmc and ONNX Runtime), and a
#    larger export (d = 2048, 8 layers, 371M parameters; llmc only) whose
#    weights are far larger than the caches.
#
# Environment: RUNS (10), LLMC_BUILD_DIR (build), SHARED_TOOLS
# (../shared/tools), SCALING (0).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${LLMC_BUILD_DIR:-$here/../build}"
tools="${SHARED_TOOLS:-$here/../../shared/tools}"
work="${1:-$here/../build/bench}"
runs="${RUNS:-10}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
bench="$build/bin/llmc-bench"
for f in "$bench" "$build/bin/llm-compile" "$tools/export_all.py" "$tools/bench_ort.js"; do
  [ -e "$f" ] || { echo "cpu_bench.sh: missing $f" >&2; exit 1; }
done
log() { echo "== $*" >&2; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# --- models and ONNX Runtime ---------------------------------------------
if [ ! -f "$work/models/llama_perf_kv/opset17/model.onnx" ]; then
  log "exporting the perf models"
  OUT_DIR="$work/models" /usr/bin/python3 "$tools/export_all.py" \
    --only llama_perf_prefill,llama_perf_kv > "$work/export.log" 2>&1
fi
ort="$work/ort/node_modules/onnxruntime-node"
if [ ! -d "$ort" ] && command -v npm > /dev/null; then
  log "installing onnxruntime-node 1.30.0 (npm)"
  mkdir -p "$work/ort"
  (cd "$work/ort" && ONNXRUNTIME_NODE_INSTALL=skip npm install --silent \
    onnxruntime-node@1.30.0 > npm.log 2>&1) ||
    log "npm install failed (see $work/ort/npm.log)"
fi
# Without node or onnxruntime-node, llmc is measured alone.
use_ort=1
if ! command -v node > /dev/null || [ ! -d "$ort" ]; then
  log "ONNX Runtime unavailable: llmc only"
  use_ort=0
fi

# Model arithmetic: FLOPs of a prefill of T tokens (every linear layer, and
# causal attention: 2 products of T(T+1)/2 query-key pairs per head), and
# bytes a decode step must read (the linear layers' weights and the KV
# cache at that context).
model_math() { # cfg-json what T
  python3 - "$@" <<'PY'
import json, sys
c = json.loads(sys.argv[1]); what = sys.argv[2]; T = int(sys.argv[3])
d, h, hkv, f, L, V = c["d"], c["h"], c["hkv"], c["f"], c["layers"], c["vocab"]
dh = d // h
linear = L * (2 * d * d + 2 * d * hkv * dh + 3 * d * f) + d * V
if what == "prefill_flops":
    print(2 * T * linear + L * h * 2 * 2 * dh * T * (T + 1) // 2)
else:  # decode bytes at context T
    print(4 * linear + L * 2 * hkv * dh * T * 4)
PY
}
perf_cfg='{"vocab": 4096, "d": 512, "h": 8, "hkv": 2, "f": 1376, "layers": 4}'

# --- machine limits ------------------------------------------------------
declare -A peak bw
for t in 1 2; do
  line=$("$bench" --machine --threads $t)
  peak[$t]=$(echo "$line" | json "d['fma_gflops']")
  bw[$t]=$(echo "$line" | json "d['read_gbps']")
done

# --- one model: llmc and ORT alternately -----------------------------------
# run_model NAME MODELS_DIR CFG PROMPT WITH_ORT
run_model() {
  local name=$1 models=$2 cfg=$3 prompt=$4 with_ort=$5
  local art="$work/$name.llmc"
  if [ ! -f "$art" ] || [ "$art" -ot "$build/bin/llm-compile" ]; then
    log "llm-compile $name"
    local start=$(date +%s.%N)
    "$build/bin/llm-compile" --quiet "$models/llama_perf_prefill/opset17/model.onnx" -o "$art"
    echo "compile $name: $(python3 -c "print(f'{$(date +%s.%N) - $start:.1f}')") s"
  fi
  local flops bytes
  flops=$(model_math "$cfg" prefill_flops "$prompt")
  bytes=$(model_math "$cfg" decode_bytes $((prompt + 32)))
  printf '\n%s: prefill %d tokens (%.2f GFLOP), decode from context %d (%.1f MB per token)\n' \
    "$name" "$prompt" "$(python3 -c "print($flops/1e9)")" "$prompt" \
    "$(python3 -c "print($bytes/1e6)")"
  printf '%-8s %-10s %10s %10s %8s %9s %12s %10s %8s %9s\n' threads runtime \
    "prefill" "ratio" "GFLOP/s" "%peak" "decode" "ratio" "GB/s" "%DRAM"
  for t in 1 2; do
    local lp=() ld=() op=() od=()
    for rep in 1 2 3; do
      line=$("$bench" "$art" --threads $t --prompt-len "$prompt" --decode-steps 64 --runs "$runs")
      lp+=("$(echo "$line" | json "d['prefill_ms']['median']")")
      ld+=("$(echo "$line" | json "d['decode_ms']['median']")")
      if [ "$with_ort" = 1 ]; then
        line=$(ORT_NODE="$ort" node "$tools/bench_ort.js" --threads $t --runs "$runs" \
          --prefill-len "$prompt" --decode-steps 64 --models "$models" 2>/dev/null)
        op+=("$(echo "$line" | json "d['prefill']['median_ms']")")
        od+=("$(echo "$line" | json "d['decode']['median_ms']")")
      fi
    done
    med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
    local p d
    p=$(med "${lp[@]}") d=$(med "${ld[@]}")
    local po="" dd=""
    if [ "$with_ort" = 1 ]; then po=$(med "${op[@]}") dd=$(med "${od[@]}"); fi
    python3 - "$t" "$p" "$d" "$po" "$dd" "$flops" "$bytes" "${peak[$t]}" "${bw[$t]}" <<'PY'
import sys
t, p, d, po, dd = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
flops, nbytes, peak, bw = (float(x) for x in sys.argv[6:10])
def row(who, p, d, rp, rd):
    gf = flops / p / 1e6; gb = nbytes / d / 1e6
    print(f"{t:<8} {who:<10} {p:8.2f}ms {rp:>10} {gf:8.1f} {100*gf/peak:8.1f}% {d:9.3f}ms/t {rd:>10} {gb:8.1f} {100*gb/bw:8.1f}%")
if po:
    row("llmc", p, d, f"{p/float(po):.2f}x", f"{d/float(dd):.2f}x")
    row("ORT", float(po), float(dd), "", "")
else:
    row("llmc", p, d, "", "")
PY
  done
}

echo "machine: FMA peak ${peak[1]} / ${peak[2]} GFLOP/s, read bandwidth ${bw[1]} / ${bw[2]} GB/s (1 / 2 threads)"
echo "ratio: llmc time / ONNX Runtime time (below 1: llmc faster); %DRAM: bytes a decode step must read over its time, against the read bandwidth"
run_model perf15M "$work/models" "$perf_cfg" 128 "$use_ort"

# --- GEMM / GEMV microbenchmarks ------------------------------------------
printf '\nlinear layers (M x K -> N), GFLOP/s and %% of peak; GEMV also weight GB/s\n'
printf '%-18s %8s %8s %8s %8s\n' shape "1T" "%peak" "2T" "%peak"
for kn in 512,512 512,128 512,1376 1376,512 512,4096; do
  for m in 128 1; do
    r1=$("$bench" --linear "$m,$kn" --threads 1 --runs 50)
    r2=$("$bench" --linear "$m,$kn" --threads 2 --runs 50)
    python3 - "$m,$kn" "$r1" "$r2" "${peak[1]}" "${peak[2]}" <<'PY'
import json, sys
shape, a, b = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
p1, p2 = float(sys.argv[4]), float(sys.argv[5])
extra = f"   ({a['weight_gbps']:.0f} / {b['weight_gbps']:.0f} GB/s of weights)" if shape.startswith("1,") else ""
print(f"{shape:<18} {a['gflops']:8.1f} {100*a['gflops']/p1:7.1f}% {b['gflops']:8.1f} {100*b['gflops']/p2:7.1f}%{extra}")
PY
  done
done

# --- scaling ---------------------------------------------------------------
if [ "${SCALING:-0}" = 1 ]; then
  # 2048 + 64 decode steps must fit in the position tables.
  if [ ! -f "$work/pos2048/llama_perf_kv/opset17/model.onnx" ]; then
    log "exporting the perf model with 2176 positions"
    /usr/bin/python3 "$here/export_llama.py" "$work/pos2048" --max-pos 2176 --kv \
      --tools "$tools" > "$work/export2048.log" 2>&1
  fi
  for T in 512 2048; do
    run_model "perf15M-T$T" "$work/pos2048" "$perf_cfg" "$T" "$use_ort"
  done
  big_cfg='{"vocab": 4096, "d": 2048, "h": 16, "hkv": 4, "f": 5504, "layers": 8}'
  if [ ! -f "$work/big/llama_perf_prefill/opset17/model.onnx" ]; then
    log "exporting the d=2048, 8-layer model"
    /usr/bin/python3 "$here/export_llama.py" "$work/big" --d 2048 --layers 8 \
      --heads 16 --kv-heads 4 --ffn 5504 --max-pos 2048 --tools "$tools" \
      > "$work/export-big.log" 2>&1
  fi
  runs=3
  run_model big371M "$work/big" "$big_cfg" 128 0
fi
