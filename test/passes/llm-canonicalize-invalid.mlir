// RUN: llm-opt %s --llm-canonicalize=max-iterations=1 -split-input-file -verify-diagnostics
// RUN: not llm-opt %s --llm-canonicalize=max-iterations=0 2>&1 | FileCheck %s --check-prefix=ZERO

// One round is not enough to reach a fixed point here: the pass says so and
// leaves valid IR behind.
// expected-warning @+1 {{llm-canonicalize did not converge in 1 iterations}}
module {
  func.func @chain(%x: tensor<4xf32>) -> tensor<4xf32> {
    %a = llm.transfer %x : tensor<4xf32> from #llm.device<"cpu"> to #llm.device<"npu">
    %b = llm.transfer %a : tensor<4xf32> from #llm.device<"npu"> to #llm.device<"cpu">
    return %b : tensor<4xf32>
  }
}

// ZERO: error: llm-canonicalize: max-iterations must be at least 1, got 0
