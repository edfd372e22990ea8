// RUN: llm-opt %s --llm-moe-to-moge="groups=4 k-per-group=1" -verify-diagnostics | FileCheck %s

// 8 experts, top-2 over all of them, become 4 groups of 2 with one expert
// chosen in each: top_k = 4. A warning says the routing changed.
// CHECK-LABEL: func.func @moe
// CHECK: llm.moe {{.*}} {groups = 4 : i64, normalize_top_k, top_k = 4 : i64}
func.func @moe(%x: tensor<6x16xf32>, %logits: tensor<6x8xf32>, %g: tensor<8x32x16xf32>,
               %u: tensor<8x32x16xf32>, %d: tensor<8x16x32xf32>) -> tensor<6x16xf32> {
  // expected-warning @below {{routing changed from top-2 over all experts to top-1 in each of 4 groups}}
  %y = llm.moe %x, %logits gate(%g) up(%u) down(%d) {top_k = 2 : i64, normalize_top_k}
      : (tensor<6x16xf32>, tensor<6x8xf32>, tensor<8x32x16xf32>, tensor<8x32x16xf32>, tensor<8x16x32xf32>) -> tensor<6x16xf32>
  return %y : tensor<6x16xf32>
}
