// RUN: llm-opt %s --split-input-file -verify-diagnostics --llm-partition

// Some ops placed, one not: placement did not run on the whole function.
func.func @partly(%x: tensor<8x64xf32>) -> tensor<8x64xf32> {
  %a = arith.addf %x, %x {llm.device = #llm.device<"npu">} : tensor<8x64xf32>
  // expected-error @below {{op has no 'llm.device' while others do; run llm-place first}}
  %b = arith.mulf %a, %a : tensor<8x64xf32>
  return %b : tensor<8x64xf32>
}

