// RUN: llm-opt %s --llm-raise -verify-diagnostics -split-input-file

// llm-raise works on valid IR only: an op that fails to verify is reported
// before any rewrite happens.
func.func @bad_linear(%x: tensor<2x9xf32>, %w: tensor<4x8xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'llm.linear' op input feature dimension (9) does not match weight in_features (8)}}
  %y = llm.linear %x, %w : (tensor<2x9xf32>, tensor<4x8xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
