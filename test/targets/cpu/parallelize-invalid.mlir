// RUN: llm-opt %s --pass-pipeline="builtin.module(func.func(llm-cpu-parallelize{chunks=1}))" --verify-diagnostics

// expected-error @below {{llm-cpu-parallelize: chunks must be at least 2 and min-work at least 1, got 1 and 32768}}
func.func @f() {
  return
}
