// RUN: llm-opt %s --llm-expose-router-logits --split-input-file -verify-diagnostics | FileCheck %s

// CHECK-LABEL: func.func @main
// CHECK-SAME: -> (tensor<6x16xf32> {llm.name = "y"}, tensor<6x8xf32> {llm.layer = 0 : i64, llm.name = "router_logits_0"}, tensor<6x8xf32> {llm.layer = 1 : i64, llm.name = "router_logits_1"})
// CHECK: %[[L0:.*]] = arith.addf %arg1, %arg1
// CHECK: %[[Y0:.*]] = llm.moe %arg0, %[[L0]]
// CHECK: %[[Y1:.*]] = llm.moe %[[Y0]], %arg1
// CHECK: return %[[Y1]], %[[L0]], %arg1
func.func @main(%x: tensor<6x16xf32>, %logits: tensor<6x8xf32>, %u: tensor<8x32x16xf32>,
                %d: tensor<8x16x32xf32>) -> (tensor<6x16xf32> {llm.name = "y"}) {
  %l0 = arith.addf %logits, %logits : tensor<6x8xf32>
  %y0 = llm.moe %x, %l0 up(%u) down(%d) {top_k = 2 : i64}
      : (tensor<6x16xf32>, tensor<6x8xf32>, tensor<8x32x16xf32>, tensor<8x16x32xf32>) -> tensor<6x16xf32>
  %y1 = llm.moe %y0, %logits up(%u) down(%d) {top_k = 2 : i64}
      : (tensor<6x16xf32>, tensor<6x8xf32>, tensor<8x32x16xf32>, tensor<8x16x32xf32>) -> tensor<6x16xf32>
  return %y1 : tensor<6x16xf32>
}

// -----

// expected-error @below {{@main has no llm.moe layer}}
func.func @main(%x: tensor<6x16xf32>) -> tensor<6x16xf32> {
  return %x : tensor<6x16xf32>
}
