#!/usr/bin/env bash
# How well the host-cpu cost model (examples/targets/host-cpu.json) predicts
# llmc's own CPU kernels, op by op, on the Llama-style perf export. Not a
# test: prints each op's estimate beside its measured time and the median
# relative error.
#
#   bench/cpu_cost_model.sh [WORK_DIR]
#
# 1. Exports the perf prefill model into WORK_DIR if missing.
# 2. Places it with llm-place{target=host-cpu} for a prefill of PROMPT
#    tokens and for a decode step at context PROMPT, and reads every op's
#    CPU estimate from the placement report.
# 3. Measures every linear-layer shape (llmc-bench --linear M,K,N: the
#    compiled kernel alone, median of 20 calls) and the prefill attention
#    (--attention) on THREADS threads, with the caches flushed before each
#    call: the model assumes weights stream from DRAM, as they do in a model
#    larger than the caches.
# 4. Prints estimate, measurement and error per op, and the median error.
#    The linear and attention ops are 90+ % of the model's FLOPs;
#    elementwise ops are not measured one by one (they are fused with their
#    neighbours in the compiled code).
#
# Environment: LLMC_BUILD_DIR (build), SHARED_TOOLS (../shared/tools),
# PROMPT (128), THREADS (2, the preset's core count).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${LLMC_BUILD_DIR:-$here/../build}"
tools="${SHARED_TOOLS:-$here/../../shared/tools}"
work="${1:-$here/../build/bench}"
prompt="${PROMPT:-128}"
threads="${THREADS:-2}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
for f in "$build/bin/llmc-bench" "$build/bin/llm-opt" "$build/bin/llm-translate"; do
  [ -e "$f" ] || { echo "cpu_cost_model.sh: missing $f" >&2; exit 1; }
done
model="$work/models/llama_perf_prefill/opset17/model.onnx"
if [ ! -f "$model" ]; then
  echo "== exporting the perf model" >&2
  OUT_DIR="$work/models" /usr/bin/python3 "$tools/export_all.py" \
    --only llama_perf_prefill,llama_perf_kv > "$work/export.log" 2>&1
fi

"$build/bin/llm-translate" --import-onnx "$model" --mlir-print-debuginfo |
  "$build/bin/llm-opt" --llm-raise --llm-synthesize-kv-cache --llm-canonicalize \
    --mlir-print-debuginfo -o "$work/cost-model-step.mlir"
for phase in prefill decode; do
  "$build/bin/llm-opt" "$work/cost-model-step.mlir" -o /dev/null \
    --llm-place="target=host-cpu phase=$phase batch=1 context=$prompt report=$work/cost-model-$phase.json"
done

python3 - "$build/bin/llmc-bench" "$work" "$prompt" "$threads" "$here/../examples/targets/host-cpu.json" <<'PY'
import json, statistics, subprocess, sys
bench, work, prompt, threads, preset = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
# The machine now, beside what the preset assumes: on a shared machine the
# difference is part of the error.
cpu = json.load(open(preset))["devices"][0]
now = json.loads(subprocess.run([bench, "--machine", "--threads", threads],
                                check=True, capture_output=True,
                                text=True).stdout.strip().splitlines()[-1])
print(f"machine now: {now['fma_gflops']:.0f} GFLOP/s, {now['read_gbps']:.1f} GB/s "
      f"on {threads} threads; preset: {cpu['peak_gflops_per_core'] * int(threads):.0f} GFLOP/s, "
      f"{cpu['dram_bandwidth_gbps']:.1f} GB/s")
measured = {}
def measure(kind, shape):
    key = (kind, shape)
    if key not in measured:
        out = subprocess.run([bench, "--" + kind, ",".join(map(str, shape)),
                              "--threads", threads, "--runs", "20",
                              "--flush-mib", "256"],
                             check=True, capture_output=True, text=True).stdout
        measured[key] = json.loads(out.strip().splitlines()[-1])["ms"] * 1e3
    return measured[key]

rows, errors = [], {"prefill": [], "decode": []}
for phase in ("prefill", "decode"):
    report = json.load(open(f"{work}/cost-model-{phase}.json"))
    for op in report["functions"][0]["ops"]:
        s, est = op["shape"], op["estimates"]["cpu"]["us"]
        if op["op"] == "llm.linear":
            got = measure("linear", (s["m"], s["k"], s["n"]))
        elif op["op"] == "llm.attention" and phase == "prefill":
            heads = s["m"] // prompt * s["batch"]
            got = measure("attention", (prompt, heads, s["batch"], s["k"]))
        else:
            continue
        err = (est - got) / got
        errors[phase].append(abs(err))
        rows.append((phase, op["name"], op["op"], est, got, err,
                     op["estimates"]["cpu"]["bound"]))
print(f"{'phase':8} {'op':34} {'estimate us':>12} {'measured us':>12} {'error':>8}  bound")
for phase, name, kind, est, got, err, bound in rows:
    print(f"{phase:8} {name[-34:]:34} {est:12.1f} {got:12.1f} {err:+8.1%}  {bound}")
for phase in ("prefill", "decode"):
    if errors[phase]:
        print(f"median |error| {phase}: {statistics.median(errors[phase]):.1%} over {len(errors[phase])} ops")
every = errors["prefill"] + errors["decode"]
print(f"median |error| all: {statistics.median(every):.1%} over {len(every)} ops")
PY
