// RUN: llm-opt %s --llm-canonicalize --split-input-file | FileCheck %s
// The same patterns are the ops' canonicalizers, so -canonicalize agrees.
// RUN: llm-opt %s --canonicalize --split-input-file | FileCheck %s

// A matmul by a transposed 2-D weight is a linear layer.
// CHECK-LABEL: func.func @matmul_transposed_weight_is_linear
// CHECK-SAME: (%[[X:.*]]: tensor<2x8x64xf32>, %[[W:.*]]: tensor<176x64xf32>)
// CHECK-NOT: linalg.transpose
// CHECK: %[[Y:.*]] = llm.linear %[[X]], %[[W]] : (tensor<2x8x64xf32>, tensor<176x64xf32>) -> tensor<2x8x176xf32>
// CHECK: return %[[Y]]
func.func @matmul_transposed_weight_is_linear(%x: tensor<2x8x64xf32>, %w: tensor<176x64xf32>) -> tensor<2x8x176xf32> {
  %init = tensor.empty() : tensor<64x176xf32>
  %wt = linalg.transpose ins(%w : tensor<176x64xf32>) outs(%init : tensor<64x176xf32>) permutation = [1, 0]
  %y = llm.matmul %x, %wt : (tensor<2x8x64xf32>, tensor<64x176xf32>) -> tensor<2x8x176xf32>
  return %y : tensor<2x8x176xf32>
}

// -----

// Identity transposes fold away, so the weight reaches llm.linear directly.
// CHECK-LABEL: func.func @identity_transpose_folds_into_linear
// CHECK-SAME: (%[[X:.*]]: tensor<2x64xf32>, %[[W:.*]]: tensor<176x64xf32>)
// CHECK-NOT: linalg.transpose
// CHECK: llm.linear %[[X]], %[[W]] :
func.func @identity_transpose_folds_into_linear(%x: tensor<2x64xf32>, %w: tensor<176x64xf32>) -> tensor<2x176xf32> {
  %init = tensor.empty() : tensor<176x64xf32>
  %wi = linalg.transpose ins(%w : tensor<176x64xf32>) outs(%init : tensor<176x64xf32>) permutation = [0, 1]
  %y = llm.linear %x, %wi : (tensor<2x64xf32>, tensor<176x64xf32>) -> tensor<2x176xf32>
  return %y : tensor<2x176xf32>
}

// -----

// Two transposes compose into the identity and vanish.
// CHECK-LABEL: func.func @double_transpose_folds_into_linear
// CHECK-SAME: (%[[X:.*]]: tensor<2x64xf32>, %[[W:.*]]: tensor<176x64xf32>)
// CHECK-NOT: linalg.transpose
// CHECK: llm.linear %[[X]], %[[W]] :
func.func @double_transpose_folds_into_linear(%x: tensor<2x64xf32>, %w: tensor<176x64xf32>) -> tensor<2x176xf32> {
  %i0 = tensor.empty() : tensor<64x176xf32>
  %t0 = linalg.transpose ins(%w : tensor<176x64xf32>) outs(%i0 : tensor<64x176xf32>) permutation = [1, 0]
  %i1 = tensor.empty() : tensor<176x64xf32>
  %t1 = linalg.transpose ins(%t0 : tensor<64x176xf32>) outs(%i1 : tensor<176x64xf32>) permutation = [1, 0]
  %y = llm.linear %x, %t1 : (tensor<2x64xf32>, tensor<176x64xf32>) -> tensor<2x176xf32>
  return %y : tensor<2x176xf32>
}

// -----

// A matmul of two activations is left alone.
// CHECK-LABEL: func.func @matmul_of_activations_stays
// CHECK: llm.matmul
func.func @matmul_of_activations_stays(%q: tensor<1x4x8x16xf32>, %kt: tensor<1x4x16x8xf32>) -> tensor<1x4x8x8xf32> {
  %s = llm.matmul %q, %kt : (tensor<1x4x8x16xf32>, tensor<1x4x16x8xf32>) -> tensor<1x4x8x8xf32>
  return %s : tensor<1x4x8x8xf32>
}

// -----

// CHECK-LABEL: func.func @zero_bias_dropped
// CHECK: llm.linear %{{.*}}, %{{.*}} : (tensor<2x64xf32>, tensor<16x64xf32>) -> tensor<2x16xf32>
func.func @zero_bias_dropped(%x: tensor<2x64xf32>, %w: tensor<16x64xf32>) -> tensor<2x16xf32> {
  %b = arith.constant dense<0.0> : tensor<16xf32>
  %y = llm.linear %x, %w, %b : (tensor<2x64xf32>, tensor<16x64xf32>, tensor<16xf32>) -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

// CHECK-LABEL: func.func @nonzero_bias_kept
// CHECK: llm.linear %{{.*}}, %{{.*}}, %{{.*}} :
func.func @nonzero_bias_kept(%x: tensor<2x64xf32>, %w: tensor<16x64xf32>) -> tensor<2x16xf32> {
  %b = arith.constant dense<0.5> : tensor<16xf32>
  %y = llm.linear %x, %w, %b : (tensor<2x64xf32>, tensor<16x64xf32>, tensor<16xf32>) -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

// CHECK-LABEL: func.func @zero_mask_dropped
// CHECK: llm.attention %{{.*}}, %{{.*}}, %{{.*}} {num_heads = 2 : i64, num_kv_heads = 2 : i64}
func.func @zero_mask_dropped(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32> {
  %m = arith.constant dense<0.0> : tensor<1x1x3x3xf32>
  %o = llm.attention %q, %k, %k mask(%m) {num_heads = 2 : i64, num_kv_heads = 2 : i64}
      : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<1x1x3x3xf32>) -> tensor<1x2x3x4xf32>
  return %o : tensor<1x2x3x4xf32>
}

// -----

// The constant causal mask torch exports write (finfo.min above the diagonal).
// CHECK-LABEL: func.func @causal_mask_becomes_flag
// CHECK-NOT: arith.constant
// CHECK: llm.attention %{{.*}}, %{{.*}}, %{{.*}} {causal, num_heads = 2 : i64, num_kv_heads = 2 : i64}
func.func @causal_mask_becomes_flag(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32> {
  %m = arith.constant dense<[[0.0, -3.40282347E+38, -3.40282347E+38],
                             [0.0, 0.0, -3.40282347E+38],
                             [0.0, 0.0, 0.0]]> : tensor<3x3xf32>
  %o = llm.attention %q, %k, %k mask(%m) {num_heads = 2 : i64, num_kv_heads = 2 : i64}
      : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<3x3xf32>) -> tensor<1x2x3x4xf32>
  return %o : tensor<1x2x3x4xf32>
}

// -----

// With a KV cache the mask is aligned bottom-right: 2 queries over 4 keys.
// CHECK-LABEL: func.func @causal_mask_with_cache
// CHECK: llm.attention {{.*}} past({{.*}}) {causal,
func.func @causal_mask_with_cache(%q: tensor<1x2x2x4xf32>, %k: tensor<1x2x2x4xf32>, %pk: tensor<1x2x2x4xf32>)
    -> (tensor<1x2x2x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %m = arith.constant dense<[[[[0.0, 0.0, 0.0, 0xFF800000],
                                [0.0, 0.0, 0.0, 0.0]]]]> : tensor<1x1x2x4xf32>
  %o:3 = llm.attention %q, %k, %k mask(%m) past(%pk, %pk) {num_heads = 2 : i64, num_kv_heads = 2 : i64}
      : (tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>, tensor<1x1x2x4xf32>, tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>)
      -> (tensor<1x2x2x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>)
  return %o#0, %o#1, %o#2 : tensor<1x2x2x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// A mask that is almost causal (one hidden key too many) stays a mask.
// CHECK-LABEL: func.func @non_causal_mask_kept
// CHECK: llm.attention %{{.*}}, %{{.*}}, %{{.*}} mask(
func.func @non_causal_mask_kept(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32> {
  %m = arith.constant dense<[[0.0, -3.40282347E+38, -3.40282347E+38],
                             [-3.40282347E+38, 0.0, -3.40282347E+38],
                             [0.0, 0.0, 0.0]]> : tensor<3x3xf32>
  %o = llm.attention %q, %k, %k mask(%m) {num_heads = 2 : i64, num_kv_heads = 2 : i64}
      : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<3x3xf32>) -> tensor<1x2x3x4xf32>
  return %o : tensor<1x2x3x4xf32>
}

// -----

// A small negative value is a bias, not a removed key.
// CHECK-LABEL: func.func @soft_mask_kept
// CHECK: mask(
func.func @soft_mask_kept(%q: tensor<1x2x2x4xf32>, %k: tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32> {
  %m = arith.constant dense<[[0.0, -1.0], [0.0, 0.0]]> : tensor<2x2xf32>
  %o = llm.attention %q, %k, %k mask(%m) {num_heads = 2 : i64, num_kv_heads = 2 : i64}
      : (tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>, tensor<2x2xf32>) -> tensor<1x2x2x4xf32>
  return %o : tensor<1x2x2x4xf32>
}

// -----

// CHECK-LABEL: func.func @softmax_of_one_element
// CHECK: %[[ONES:.*]] = arith.constant dense<1.000000e+00> : tensor<1x4x1xf32>
// CHECK: return %[[ONES]]
func.func @softmax_of_one_element(%x: tensor<1x4x1xf32>) -> tensor<1x4x1xf32> {
  %p = llm.softmax %x : tensor<1x4x1xf32>
  return %p : tensor<1x4x1xf32>
}

// -----

// CHECK-LABEL: func.func @softmax_kept
// CHECK: llm.softmax
func.func @softmax_kept(%x: tensor<1x4x1xf32>) -> tensor<1x4x1xf32> {
  %p = llm.softmax %x axis = 1 : tensor<1x4x1xf32>
  return %p : tensor<1x4x1xf32>
}

// -----

// CHECK-LABEL: func.func @transfers
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK: %[[T:.*]] = llm.transfer %[[X]] : tensor<4xf32> from #llm.device<"cpu"> to #llm.device<"pim">
// CHECK: return %[[X]], %[[T]], %[[X]]
func.func @transfers(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  // Same device: nothing to move.
  %same = llm.transfer %x : tensor<4xf32> from #llm.device<"cpu"> to #llm.device<"cpu">
  // cpu -> npu -> pim is one move cpu -> pim.
  %a = llm.transfer %x : tensor<4xf32> from #llm.device<"cpu"> to #llm.device<"npu">
  %b = llm.transfer %a : tensor<4xf32> from #llm.device<"npu"> to #llm.device<"pim">
  // cpu -> npu -> cpu is no move at all.
  %c = llm.transfer %a : tensor<4xf32> from #llm.device<"npu"> to #llm.device<"cpu">
  return %same, %b, %c : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
