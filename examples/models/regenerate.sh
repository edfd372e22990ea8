#!/usr/bin/env bash
# Re-exports the bundled models with Debian's torch (python3-torch).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
OUT_DIR="$out" /usr/bin/python3 "$here/export_all.py" \
  --only gpt2_tiny,llama_tiny,llama_tiny_kv,llama_moe_sparse,llama_moe_dense \
  --opsets 13,14,15,16,17
for m in gpt2_tiny llama_tiny llama_tiny_kv llama_moe_sparse; do
  rm -rf "${here:?}/$m" && cp -r "$out/$m" "$here/"
done
for m in llama_moe_dense; do
  rm -rf "${here:?}/$m" && mkdir -p "$here/$m" && cp -r "$out/$m/opset17" "$here/$m/"
done
echo "regenerated into $here"
