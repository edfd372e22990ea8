#!/bin/sh
# Rebuilds the genai-style models and their references in this folder:
#  1. genai_models.py writes the models, the inputs and the NumPy outputs
#     (output_i.pb), with Debian's python3-onnx and python3-numpy;
#  2. ONNX Runtime runs every test set (the team's run_oracle.js with
#     onnxruntime-node 1.30), must agree with NumPy within 1e-4 (the
#     padded positions of genai_phi's left-padded row aside: their queries
#     see no real key, and no caller reads them), and its outputs are
#     stored as ort_output_i.pb, which the tests compare llmc with.
# ORT_NODE: the onnxruntime-node package folder; TOOLS: the folder of
# run_oracle.js (default: the team's shared tools).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tools=${TOOLS:-$here/../../../../shared/tools}
/usr/bin/python3 "$here/genai_models.py" "$here"
cd "$here"
ORT_NODE=${ORT_NODE:-onnxruntime-node} node "$tools/run_oracle.js" --write \
  --rtol 1e-4 --atol 1e-5 genai_llama genai_llama_int4 genai_llama_int4_zp genai_mistral \
  genai_phi
