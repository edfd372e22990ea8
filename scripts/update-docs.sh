#!/usr/bin/env bash
# Regenerates docs/dialect-ops.md from the ODS definitions.
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"
llmc_setup
cp "$LLMC_BUILD_DIR/docs/dialect-ops.md" "$LLMC_ROOT/docs/dialect-ops.md"
llmc_log "updated docs/dialect-ops.md"
