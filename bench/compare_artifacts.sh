#!/usr/bin/env bash
# Alternates llmc-bench over several artifacts (say, before and after a
# compiler change) so that each sees the same machine load, and prints per
# artifact the median and minimum of its rounds' medians. Not a test: this
# machine is shared and noisy; alternating is what makes two builds
# comparable.
#
#   bench/compare_artifacts.sh ROUNDS THREADS A.llmc B.llmc ...
#
# Each round runs every artifact once: prefill of PROMPT (128) tokens and
# DECODE (32) decode steps, RUNS (15) timed runs.
# Environment: LLMC_BUILD_DIR (build), PROMPT, DECODE, RUNS.
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,13p' "$0" >&2; exit 2; }
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bench="${LLMC_BUILD_DIR:-$here/../build}/bin/llmc-bench"
rounds=$1 threads=$2
shift 2
declare -A prefill decode
for _ in $(seq "$rounds"); do
  for art in "$@"; do
    line=$("$bench" "$art" --threads "$threads" --prompt-len "${PROMPT:-128}" \
      --decode-steps "${DECODE:-32}" --runs "${RUNS:-15}")
    read -r p d < <(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["prefill_ms"]["median"], d["decode_ms"]["median"])' <<<"$line")
    prefill[$art]+="$p "
    decode[$art]+="$d "
  done
done
for art in "$@"; do
  python3 - "$art" "${prefill[$art]}" "${decode[$art]}" <<'PY'
import statistics, sys
art, p, d = sys.argv[1], [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()]
print(f"{art:<32} prefill median {statistics.median(p):.3f} ms, min {min(p):.3f} | "
      f"decode median {statistics.median(d):.4f} ms, min {min(d):.4f}")
PY
done
