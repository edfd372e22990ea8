// RUN: llm-opt %s --llm-lower-to-linalg -verify-diagnostics -split-input-file

func.func @topk(%p: tensor<4x8xf32>) -> tensor<4x2xf32> {
  // expected-error @+1 {{'llm.topk' has no CPU lowering yet}}
  %w, %i = llm.topk %p {k = 2 : i64} : tensor<4x8xf32> -> tensor<4x2xf32>, tensor<4x2xi64>
  return %w : tensor<4x2xf32>
}
