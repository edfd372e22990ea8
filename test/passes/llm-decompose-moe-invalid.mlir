// RUN: llm-opt %s --split-input-file -verify-diagnostics --llm-decompose-moe

// The experts are unrolled: their number and sizes must be static.
func.func @dynamic_experts(%x: tensor<4x8xf32>, %l: tensor<4x?xf32>, %u: tensor<?x16x8xf32>,
                           %d: tensor<?x8x16xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{dispatch needs static expert weights and a static feature dimension}}
  %y = llm.moe %x, %l up(%u) down(%d) {top_k = 1 : i64}
      : (tensor<4x8xf32>, tensor<4x?xf32>, tensor<?x16x8xf32>, tensor<?x8x16xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

func.func @one_token(%x: tensor<8xf32>, %l: tensor<2xf32>, %u: tensor<2x16x8xf32>,
                     %d: tensor<2x8x16xf32>) -> tensor<8xf32> {
  // expected-error @below {{dispatch needs at least one token dimension before the features}}
  %y = llm.moe %x, %l up(%u) down(%d) {top_k = 1 : i64}
      : (tensor<8xf32>, tensor<2xf32>, tensor<2x16x8xf32>, tensor<2x8x16xf32>) -> tensor<8xf32>
  return %y : tensor<8xf32>
}
