#!/usr/bin/env bash
# Builds llmc (installing what is missing) and runs the whole test suite:
# the lit suite, then the GoogleTest unit tests through ctest. Prints one
# summary line "N passed, N failed" and exits non-zero on any failure.
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"
llmc_setup

cd "$LLMC_BUILD_DIR"
# In sanitizer builds, LLVM's header-inlined allocators poison memory that
# the uninstrumented libMLIR.so then touches: ignore manual poisoning (real
# errors in llmc's own code are still reported).
export ASAN_OPTIONS="${ASAN_OPTIONS:-allow_user_poisoning=0:detect_leaks=0}"
lit_log=$(mktemp)
ctest_log=$(mktemp)
trap 'rm -f "$lit_log" "$ctest_log"' EXIT

llmc_log "lit"
set +e
"$LLVM_PREFIX/bin/lit" -sv test 2>&1 | tee "$lit_log"
llmc_log "ctest"
ctest --output-on-failure -j"$(nproc)" 2>&1 | tee "$ctest_log"
set -e

# lit prints "  Passed: N (..%)", "  Failed: N", ...; ctest prints
# "N% tests passed, F tests failed out of T".
lit_count() { sed -nE "s/^ *$1: *([0-9]+).*/\1/p" "$lit_log" | head -1; }
lit_passed=$(( $(lit_count Passed || true) + 0 ))
lit_failed=0
for kind in Failed Unresolved "Timed Out" "Unexpectedly Passed"; do
  lit_failed=$(( lit_failed + $(lit_count "$kind" || true) + 0 ))
done
ctest_summary=$(grep -E "tests passed, [0-9]+ tests? failed out of [0-9]+" "$ctest_log" || true)
if [ -n "$ctest_summary" ]; then
  ctest_failed=$(sed -nE 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/p' <<<"$ctest_summary")
  ctest_total=$(sed -nE 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/p' <<<"$ctest_summary")
else
  ctest_failed=1 ctest_total=1 # ctest did not run: count it as a failure
fi
if [ "$lit_passed" -eq 0 ] && [ "$lit_failed" -eq 0 ]; then
  lit_failed=1 # lit did not run
fi

passed=$(( lit_passed + ctest_total - ctest_failed ))
failed=$(( lit_failed + ctest_failed ))
echo "lit: $lit_passed passed, $lit_failed failed; unit: $(( ctest_total - ctest_failed )) passed, $ctest_failed failed"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
