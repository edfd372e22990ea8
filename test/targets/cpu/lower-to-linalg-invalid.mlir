// RUN: llm-opt %s --llm-lower-to-linalg -verify-diagnostics -split-input-file

func.func @rms_norm_dynamic_features(%x: tensor<2x?xf32>) -> tensor<2x?xf32> {
  // expected-error @+1 {{'llm.rms_norm' could not be lowered for the CPU}}
  %y = llm.rms_norm %x {epsilon = 1.0e-6 : f32} : (tensor<2x?xf32>) -> tensor<2x?xf32>
  return %y : tensor<2x?xf32>
}
