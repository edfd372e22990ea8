// RUN: llm-opt %s --split-input-file -verify-diagnostics --llm-moe-to-moge="groups=3 k-per-group=1"
// RUN: not llm-opt %s --llm-moe-to-moge="groups=2 k-per-group=5" 2>&1 | FileCheck %s --check-prefix=TOOMANY
// RUN: not llm-opt %s --llm-moe-to-moge="groups=0" 2>&1 | FileCheck %s --check-prefix=ZERO

// TOOMANY: k-per-group (5) exceeds the experts of a group (4)
// ZERO: llm-moe-to-moge: groups and k-per-group must be at least 1

// 8 experts do not split into 3 groups.
func.func @uneven(%x: tensor<6x16xf32>, %logits: tensor<6x8xf32>, %u: tensor<8x32x16xf32>,
                  %d: tensor<8x16x32xf32>) -> tensor<6x16xf32> {
  // expected-error @below {{cannot split 8 experts into 3 equal groups}}
  %y = llm.moe %x, %logits up(%u) down(%d) {top_k = 2 : i64}
      : (tensor<6x16xf32>, tensor<6x8xf32>, tensor<8x32x16xf32>, tensor<8x16x32xf32>) -> tensor<6x16xf32>
  return %y : tensor<6x16xf32>
}
