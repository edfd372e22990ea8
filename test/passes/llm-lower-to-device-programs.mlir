// RUN: llm-opt %s --llm-lower-to-device-programs=target=edge-npu-pim --split-input-file | FileCheck %s

// A linear layer on the NPU becomes a device call of program 0; its
// program (elided here; 212 bytes: the 112-byte header, 2 constants, 2
// instructions, 3x2 weights and 3 biases) is in the module's list with its
// device, the op, K x N and the NPU model's estimate for one row. The
// init's leading size comes from the input.
// CHECK: module attributes {llm.device_programs = [{bytes = dense_resource<device_program_0> : tensor<212xi8>, decode_estimate_seconds = {{[0-9.eE+-]+}} : f64, device = #llm.device<"npu">, op = "llm.linear", shape = "2x3"}]}
// CHECK-LABEL: func.func @linear
// CHECK-SAME: (%[[X:.*]]: tensor<?x2xf32>)
// CHECK: %[[ROWS:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x2xf32>
// CHECK: %[[INIT:.*]] = tensor.empty(%[[ROWS]]) : tensor<?x3xf32>
// CHECK: %[[Y:.*]] = llm.device_call #llm.device<"npu"> program 0(%[[X]]) outs(%[[INIT]]) : tensor<?x2xf32> -> tensor<?x3xf32>
// CHECK-NOT: llm.linear
// CHECK: return %[[Y]]
func.func @linear(%x: tensor<?x2xf32>) -> tensor<?x3xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>
  %b = arith.constant dense<[0.5, -1.0, 2.0]> : tensor<3xf32>
  %y = llm.linear %x, %w, %b {llm.device = #llm.device<"npu">} : (tensor<?x2xf32>, tensor<3x2xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// -----

// Two programs in op order: the PIM's GEMV without a bias (no row add:
// 160 bytes) and the NPU's. The norm placed on the NPU and the linear with
// a weight computed at run time have no program: they go back to the host
// without their llm.device. Static leading sizes need no tensor.dim.
// CHECK: llm.device_programs = [{bytes = dense_resource<device_program_0> : tensor<160xi8>, {{.*}}device = #llm.device<"pim">, op = "llm.linear", shape = "2x2"}, {{{.*}}device = #llm.device<"npu">, op = "llm.linear", shape = "2x2"}]
// CHECK-LABEL: func.func @mixed
// CHECK-NOT: tensor.dim
// CHECK: %[[E0:.*]] = tensor.empty() : tensor<1x4x2xf32>
// CHECK: %[[A:.*]] = llm.device_call #llm.device<"pim"> program 0(%{{.*}}) outs(%[[E0]]) : tensor<1x4x2xf32> -> tensor<1x4x2xf32>
// CHECK: %[[N:.*]] = llm.rms_norm %[[A]]
// CHECK-NOT: llm.device =
// CHECK: llm.device_call #llm.device<"npu"> program 1(%[[N]])
// CHECK: llm.linear %{{.*}}, %{{.*}} :
// CHECK-NOT: llm.device =
func.func @mixed(%x: tensor<1x4x2xf32>, %v: tensor<2x2xf32>) -> (tensor<1x4x2xf32>, tensor<1x4x2xf32>) {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %g = arith.constant dense<[1.0, 0.5]> : tensor<2xf32>
  %a = llm.linear %x, %w {llm.device = #llm.device<"pim">} : (tensor<1x4x2xf32>, tensor<2x2xf32>) -> tensor<1x4x2xf32>
  %n = llm.rms_norm %a, %g {epsilon = 1.0e-5 : f32, llm.device = #llm.device<"npu">} : (tensor<1x4x2xf32>, tensor<2xf32>) -> tensor<1x4x2xf32>
  %c = llm.linear %n, %w {llm.device = #llm.device<"npu">} : (tensor<1x4x2xf32>, tensor<2x2xf32>) -> tensor<1x4x2xf32>
  %d = llm.linear %c, %v {llm.device = #llm.device<"npu">} : (tensor<1x4x2xf32>, tensor<2x2xf32>) -> tensor<1x4x2xf32>
  return %c, %d : tensor<1x4x2xf32>, tensor<1x4x2xf32>
}
