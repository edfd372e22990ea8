#!/usr/bin/env bash
# Runs every ONNX backend node test of Debian's libonnx-testdata through
# llmc (import, compile to an artifact, run with the runtime) and prints "N passed, N failed, N skipped"
# with each failure named. --update rewrites passing.txt (the regression
# list that test/conformance/conformance.test runs in the suite).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${LLMC_BUILD_DIR:-$here/../../build}"
data=/usr/share/libonnx-testdata/data/node
list=$(mktemp)
trap 'rm -f "$list"' EXIT
ls -d "$data"/test_* > "$list"
if [ "${1:-}" = "--update" ]; then
  "$build/bin/llmc-conformance" -v --list "$list" | tee /dev/stderr |
    awk '/^PASS/ {print $2}' > "$list.pass" || true
  { echo "# ONNX backend node tests (Debian's libonnx-testdata) that pass through"
    echo "# import, llm-compile --mode=function and the runtime; regenerate with run.sh --update."
    cat "$list.pass"; } > "$here/passing.txt"
  rm -f "$list.pass"
else
  "$build/bin/llmc-conformance" --list "$list"
fi
