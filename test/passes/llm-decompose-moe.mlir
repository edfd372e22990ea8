// RUN: llm-opt %s --llm-decompose-moe --split-input-file | FileCheck %s

// MoGE routing (2 groups of 2 experts, one expert per group, renormalised),
// then per expert: a scan collecting its tokens and weights, a gather of
// their rows, its MLP as llm.linear on its own constant weights, a
// weighted scatter-add. The stacked constants are gone.
// CHECK-LABEL: func.func @grouped
// CHECK-NOT: llm.moe
// CHECK-NOT: tensor<4x16x8xf32>
// CHECK: %[[P:.*]] = llm.softmax %arg1 : tensor<4x4xf32>
// CHECK: %[[G0:.*]] = tensor.extract_slice %[[P]][0, 0] [4, 2] [1, 1]
// CHECK: llm.topk %[[G0]] {k = 1 : i64}
// CHECK: %[[G1:.*]] = tensor.extract_slice %[[P]][0, 2] [4, 2] [1, 1]
// CHECK: llm.topk %[[G1]] {k = 1 : i64}
// CHECK: arith.addi %{{.*}}, %c2_i64 : i64
// CHECK: %[[CHOSEN:.*]] = tensor.concat dim(1) {{.*}} -> tensor<4x2xi64>
// CHECK: arith.divf
// CHECK: %[[SLOTS:.*]]:3 = scf.for {{.*}} -> (index, tensor<4xi64>, tensor<4xf32>)
// CHECK: tensor.extract %[[CHOSEN]]
// CHECK: arith.cmpi eq, %{{.*}}, %c0_i64
// CHECK: scf.if
// CHECK: %[[TOKENS:.*]] = tensor.extract_slice %[[SLOTS]]#1[0] [%[[SLOTS]]#0] [1] : tensor<4xi64> to tensor<?xi64>
// CHECK: %[[ROWS:.*]] = linalg.generic {{.*}} ins(%[[TOKENS]] : tensor<?xi64>) outs(%{{.*}} : tensor<?x8xf32>)
// CHECK: %[[UP:.*]] = llm.linear %[[ROWS]], %{{.*}} : (tensor<?x8xf32>, tensor<16x8xf32>) -> tensor<?x16xf32>
// CHECK: %[[GATE:.*]] = llm.linear %[[ROWS]], %{{.*}} : (tensor<?x8xf32>, tensor<16x8xf32>) -> tensor<?x16xf32>
// CHECK: %[[ACT:.*]] = llm.silu %[[GATE]]
// CHECK: %[[H:.*]] = arith.mulf %[[ACT]], %[[UP]] : tensor<?x16xf32>
// CHECK: %[[Y:.*]] = llm.linear %[[H]], %{{.*}} : (tensor<?x16xf32>, tensor<8x16xf32>) -> tensor<?x8xf32>
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[SLOTS]]#0 {{.*}} -> (tensor<4x8xf32>)
// CHECK: tensor.extract_slice %[[Y]]
// CHECK: math.fma
// CHECK: tensor.insert_slice
// Expert 3 is the last.
// CHECK: arith.cmpi eq, %{{.*}}, %c3_i64
// CHECK-NOT: arith.cmpi eq
// CHECK: return
func.func @grouped(%x: tensor<4x8xf32>, %l: tensor<4x4xf32>) -> tensor<4x8xf32> {
  %g = arith.constant dense<1.0> : tensor<4x16x8xf32>
  %u = arith.constant dense<2.0> : tensor<4x16x8xf32>
  %d = arith.constant dense<3.0> : tensor<4x8x16xf32>
  %y = llm.moe %x, %l gate(%g) up(%u) down(%d) {top_k = 2 : i64, normalize_top_k, groups = 2 : i64}
      : (tensor<4x8xf32>, tensor<4x4xf32>, tensor<4x16x8xf32>, tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Tokens [B, S, D] dispatch as rows [B·S, D]; weights that are not
// constants are sliced; no gate: act(up).
// CHECK-LABEL: func.func @batched
// CHECK: tensor.collapse_shape %arg0 {{\[}}[0, 1], [2]] : tensor<2x?x8xf32> into tensor<?x8xf32>
// CHECK: tensor.collapse_shape %arg1 {{\[}}[0, 1], [2]] : tensor<2x?x2xf32> into tensor<?x2xf32>
// CHECK: tensor.extract_slice %arg2[0, 0, 0] [1, 16, 8] [1, 1, 1] : tensor<2x16x8xf32> to tensor<16x8xf32>
// CHECK: llm.gelu %{{.*}} approximate = tanh : tensor<?x16xf32>
// CHECK: tensor.extract_slice %arg3[1, 0, 0] [1, 8, 16] [1, 1, 1] : tensor<2x8x16xf32> to tensor<8x16xf32>
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2]] output_shape [2, %{{.*}}, 8] : tensor<?x8xf32> into tensor<2x?x8xf32>
func.func @batched(%x: tensor<2x?x8xf32>, %l: tensor<2x?x2xf32>, %u: tensor<2x16x8xf32>,
                   %d: tensor<2x8x16xf32>) -> tensor<2x?x8xf32> {
  %y = llm.moe %x, %l up(%u) down(%d) activation = gelu_tanh {top_k = 1 : i64}
      : (tensor<2x?x8xf32>, tensor<2x?x2xf32>, tensor<2x16x8xf32>, tensor<2x8x16xf32>) -> tensor<2x?x8xf32>
  return %y : tensor<2x?x8xf32>
}
