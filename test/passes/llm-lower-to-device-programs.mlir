// RUN: llm-opt %s --llm-lower-to-device-programs=target=edge-npu-pim --split-input-file | FileCheck %s

// A linear layer on the NPU becomes a device call of program 0. Its
// program (292 bytes: the 112-byte header, 2 values, 2 constants, 2
// 40-byte instructions, then the arena: Wᵀ = [[1, 3, 5], [2, 4, 6]] and
// the bias)
// is in the module's list with its device, ops, columns in and out and the
// NPU model's estimate for one row. The init's leading size comes from the
// input.
// CHECK: module attributes {llm.device_programs = [{bytes = dense_resource<device_program_0> : tensor<292xi8>, decode_estimate_seconds = {{[0-9.eE+-]+}} : f64, device = #llm.device<"npu">, op_count = 1 : i64, ops = "llm.linear", shape = "2 -> 3"}]}
// CHECK-LABEL: func.func @linear
// CHECK-SAME: (%[[X:.*]]: tensor<?x2xf32>)
// CHECK: %[[ROWS:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x2xf32>
// CHECK: %[[INIT:.*]] = tensor.empty(%[[ROWS]]) : tensor<?x3xf32>
// CHECK: %[[Y:.*]] = llm.device_call #llm.device<"npu"> program 0(%[[X]] : tensor<?x2xf32>) outs(%[[INIT]] : tensor<?x3xf32>) -> tensor<?x3xf32>
// CHECK-NOT: llm.linear
// CHECK: return %[[Y]]
// Magic LLMCDEVP, version 1, kind 1 (npu), then the 64x64 array.
// CHECK: device_program_0: "0x080000004C4C4D434445565001000000010000000000000000005040000000000000504
// CHECK-SAME: 0000803F000040400000A04000000040000080400000C0400000003F000080BF00000040"
func.func @linear(%x: tensor<?x2xf32>) -> tensor<?x3xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>
  %b = arith.constant dense<[0.5, -1.0, 2.0]> : tensor<3xf32>
  %y = llm.linear %x, %w, %b {llm.device = #llm.device<"npu">} : (tensor<?x2xf32>, tensor<3x2xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// -----

// Programs in op order. The PIM runs its GEMV; the NPU's norm and linear
// form one program (the norm's result stays a temporary on the device).
// The linear whose weight is computed at run time has no program: it runs
// on the host without its llm.device. Static leading sizes need no
// tensor.dim.
// CHECK: llm.device_programs = [{{{.*}}device = #llm.device<"pim">, op_count = 1 : i64, ops = "llm.linear", shape = "2 -> 2"}, {{{.*}}device = #llm.device<"npu">, op_count = 2 : i64, ops = "llm.linear llm.rms_norm", shape = "2 -> 2"}]
// CHECK-LABEL: func.func @mixed
// CHECK-NOT: tensor.dim
// CHECK: %[[E0:.*]] = tensor.empty() : tensor<1x4x2xf32>
// CHECK: %[[A:.*]] = llm.device_call #llm.device<"pim"> program 0(%{{.*}} : tensor<1x4x2xf32>) outs(%[[E0]] : tensor<1x4x2xf32>)
// CHECK: %[[C:.*]] = llm.device_call #llm.device<"npu"> program 1(%[[A]] : tensor<1x4x2xf32>)
// CHECK-NOT: llm.rms_norm
// CHECK: %[[D:.*]] = llm.linear %[[C]], %{{.*}} :
// CHECK-NOT: llm.device =
// CHECK: return %[[C]], %[[D]]
func.func @mixed(%x: tensor<1x4x2xf32>, %v: tensor<2x2xf32>) -> (tensor<1x4x2xf32>, tensor<1x4x2xf32>) {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %g = arith.constant dense<[1.0, 0.5]> : tensor<2xf32>
  %a = llm.linear %x, %w {llm.device = #llm.device<"pim">} : (tensor<1x4x2xf32>, tensor<2x2xf32>) -> tensor<1x4x2xf32>
  %n = llm.rms_norm %a, %g {epsilon = 1.0e-5 : f32, llm.device = #llm.device<"npu">} : (tensor<1x4x2xf32>, tensor<2xf32>) -> tensor<1x4x2xf32>
  %c = llm.linear %n, %w {llm.device = #llm.device<"npu">} : (tensor<1x4x2xf32>, tensor<2x2xf32>) -> tensor<1x4x2xf32>
  %d = llm.linear %c, %v {llm.device = #llm.device<"npu">} : (tensor<1x4x2xf32>, tensor<2x2xf32>) -> tensor<1x4x2xf32>
  return %c, %d : tensor<1x4x2xf32>, tensor<1x4x2xf32>
}

// -----

// A SwiGLU feed-forward with its residual add is one program with two
// inputs (x and the residual) and one output. A CPU op reading a value of
// the run ends it: the next NPU ops form a second program. An op that
// neither joins nor touches the run (the empty tensor) does not end it.
// CHECK: llm.device_programs = [{{{.*}}op_count = 5 : i64, ops = "arith.addf arith.mulf llm.linear x2 llm.silu", shape = "2,2 -> 2"}, {{{.*}}op_count = 2 : i64, ops = "arith.addf llm.silu", shape = "2,2 -> 2"}]
// CHECK-LABEL: func.func @swiglu
// CHECK: %[[Y:.*]] = llm.device_call #llm.device<"npu"> program 0(%[[X:.*]], %[[R:.*]] : tensor<?x2xf32>, tensor<?x2xf32>) outs(%{{.*}} : tensor<?x2xf32>)
// CHECK: %[[T:.*]] = arith.mulf %[[Y]], %[[Y]] : tensor<?x2xf32>
// CHECK: llm.device_call #llm.device<"npu"> program 1(%[[T]], %[[Y]] : tensor<?x2xf32>, tensor<?x2xf32>)
func.func @swiglu(%x: tensor<?x2xf32>, %r: tensor<?x2xf32>) -> tensor<?x2xf32> {
  %wg = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %wu = arith.constant dense<[[0.5, 1.0], [1.5, 2.0]]> : tensor<2x2xf32>
  %g = llm.linear %x, %wg {llm.device = #llm.device<"npu">} : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  %u = llm.linear %x, %wu {llm.device = #llm.device<"npu">} : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  %c0 = arith.constant 0 : index
  %s = llm.silu %g {llm.device = #llm.device<"npu">} : tensor<?x2xf32>
  %p = arith.mulf %s, %u {llm.device = #llm.device<"npu">} : tensor<?x2xf32>
  %y = arith.addf %p, %r {llm.device = #llm.device<"npu">} : tensor<?x2xf32>
  %t = arith.mulf %y, %y {llm.device = #llm.device<"cpu">} : tensor<?x2xf32>
  %z = llm.silu %t {llm.device = #llm.device<"npu">} : tensor<?x2xf32>
  %o = arith.addf %z, %y {llm.device = #llm.device<"npu">} : tensor<?x2xf32>
  return %o : tensor<?x2xf32>
}

// -----

// Attention on the PIM (decode over the KV cache in PIM memory) is a
// program of its own over tensors shaped at launch; the output's sizes are
// the query's and the values' head dimension.
// CHECK: llm.device_programs = [{{{.*}}device = #llm.device<"pim">, op_count = 1 : i64, ops = "llm.attention", shape = "?x4x?x16,?x2x?x16,?x2x?x16,?x1x1x? -> ?x4x?x16"}]
// CHECK-LABEL: func.func @attention
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<?x4x?x16xf32>, %[[K:[^:]*]]: tensor<?x2x?x16xf32>, %[[V:[^:]*]]: tensor<?x2x?x16xf32>, %[[M:[^:]*]]: tensor<?x1x1x?xf32>)
// CHECK: %[[B:.*]] = tensor.dim %[[Q]], %c0
// CHECK: %[[T:.*]] = tensor.dim %[[Q]], %c2
// CHECK: %[[E:.*]] = tensor.empty(%[[B]], %[[T]]) : tensor<?x4x?x16xf32>
// CHECK: llm.device_call #llm.device<"pim"> program 0(%[[Q]], %[[K]], %[[V]], %[[M]] : {{.*}}) outs(%[[E]] : tensor<?x4x?x16xf32>)
// The instruction: opcode 7, dst 4, operands 0 1 2 3, causal, scale 0.25.
// CHECK: device_program_0: "0x{{([0-9A-F][0-9A-F])+}}0700000004000000000000000100000002000000030000000000000001000000000000000000803E"
func.func @attention(%q: tensor<?x4x?x16xf32>, %k: tensor<?x2x?x16xf32>, %v: tensor<?x2x?x16xf32>, %m: tensor<?x1x1x?xf32>) -> tensor<?x4x?x16xf32> {
  %o = llm.attention %q, %k, %v mask(%m) {causal, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 2.500000e-01 : f32, llm.device = #llm.device<"pim">} : (tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x1x1x?xf32>) -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// RoPE on the NPU's vector unit is a program of its own over tensors: the
// rotated input and the cos/sin tables of the step's positions.
// CHECK: llm.device_programs = [{{{.*}}device = #llm.device<"npu">, op_count = 1 : i64, ops = "llm.rope", shape = "?x4x?x16,?x16,?x16 -> ?x4x?x16"}]
// CHECK-LABEL: func.func @rope
// CHECK: llm.device_call #llm.device<"npu"> program 0(%{{.*}}, %{{.*}}, %{{.*}} : tensor<?x4x?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>) outs(%{{.*}} : tensor<?x4x?x16xf32>)
// The instruction: opcode 8, dst 3, input 0, cos 1, sin 2, no d, rotate-half.
// CHECK: device_program_0: "0x{{([0-9A-F][0-9A-F])+}}0800000003000000000000000100000002000000FFFFFFFF00000000000000000000000000000000"
func.func @rope(%x: tensor<?x4x?x16xf32>, %cos: tensor<?x16xf32>, %sin: tensor<?x16xf32>) -> tensor<?x4x?x16xf32> {
  %r = llm.rope %x, %cos, %sin {llm.device = #llm.device<"npu">} : (tensor<?x4x?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>) -> tensor<?x4x?x16xf32>
  return %r : tensor<?x4x?x16xf32>
}
