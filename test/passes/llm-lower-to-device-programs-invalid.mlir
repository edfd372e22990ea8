// RUN: llm-opt %s --split-input-file -verify-diagnostics --llm-lower-to-device-programs=target=edge-npu-pim
// RUN: not llm-opt %s --llm-lower-to-device-programs=target=%t.missing.json 2>&1 | FileCheck %s --check-prefix=MACHINE

// MACHINE: llm-lower-to-device-programs: {{.*}}missing.json

// A device the machine does not have (the edge SoC has one NPU).
func.func @second_npu(%x: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  // expected-error @below {{placed on #llm.device<"npu", 1>, which machine 'edge-npu-pim' does not have}}
  %y = llm.linear %x, %w {llm.device = #llm.device<"npu", 1>} : (tensor<4x2xf32>, tensor<2x2xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}
