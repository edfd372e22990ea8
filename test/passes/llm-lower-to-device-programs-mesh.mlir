// RUN: llm-opt %s --llm-lower-to-device-programs=target=wafer-mesh | FileCheck %s

// The mesh has no norm unit (a row all-reduce the simulator does not model
// yet): the linears around the norm are two programs and the norm runs on
// the host. Each program runs on the sub-grid of the mesh model's plan for
// its largest op, read from its timing block.
// CHECK: llm.device_programs = [{{{.*}}device = #llm.device<"mesh">, op_count = 1 : i64, ops = "llm.linear"{{.*}}}, {{{.*}}device = #llm.device<"mesh">, op_count = 2 : i64, ops = "arith.addf llm.linear"
// CHECK-LABEL: func.func @around_a_norm
// CHECK: %[[A:.*]] = llm.device_call #llm.device<"mesh"> program 0(%{{.*}} : tensor<1x4x2xf32>)
// CHECK: %[[N:.*]] = llm.rms_norm %[[A]]
// CHECK-NOT: llm.device =
// CHECK: llm.device_call #llm.device<"mesh"> program 1(%[[N]], %[[A]] : tensor<1x4x2xf32>, tensor<1x4x2xf32>)
// Magic, version 1, kind 3 (mesh).
// CHECK: device_program_0: "0x080000004C4C4D43444556500100000003000000
func.func @around_a_norm(%x: tensor<1x4x2xf32>) -> tensor<1x4x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %g = arith.constant dense<[1.0, 0.5]> : tensor<2xf32>
  %a = llm.linear %x, %w {llm.device = #llm.device<"mesh">} : (tensor<1x4x2xf32>, tensor<2x2xf32>) -> tensor<1x4x2xf32>
  %n = llm.rms_norm %a, %g {epsilon = 1.0e-5 : f32, llm.device = #llm.device<"mesh">} : (tensor<1x4x2xf32>, tensor<2xf32>) -> tensor<1x4x2xf32>
  %c = llm.linear %n, %w {llm.device = #llm.device<"mesh">} : (tensor<1x4x2xf32>, tensor<2x2xf32>) -> tensor<1x4x2xf32>
  %d = arith.addf %c, %a {llm.device = #llm.device<"mesh">} : tensor<1x4x2xf32>
  return %d : tensor<1x4x2xf32>
}
