// RUN: llm-opt %s --llm-fuse-linears --split-input-file | FileCheck %s

// Three projections of one input (4, 2 and 2 columns) become one linear
// over their weights concatenated along N; each result is its columns.
// CHECK-LABEL: func.func @qkv
// CHECK-SAME: (%[[X:.*]]: tensor<?x3xf32>)
// CHECK: %[[W:.*]] = arith.constant dense_resource<fused_linear_weight> : tensor<8x3xf32>
// CHECK: %[[Y:.*]] = llm.linear %[[X]], %[[W]] : (tensor<?x3xf32>, tensor<8x3xf32>) -> tensor<?x8xf32>
// CHECK-DAG: %[[Q:.*]] = tensor.extract_slice %[[Y]][0, 0] [%{{.*}}, 4] [1, 1] : tensor<?x8xf32> to tensor<?x4xf32>
// CHECK-DAG: %[[K:.*]] = tensor.extract_slice %[[Y]][0, 4] [%{{.*}}, 2] [1, 1] : tensor<?x8xf32> to tensor<?x2xf32>
// CHECK-DAG: %[[V:.*]] = tensor.extract_slice %[[Y]][0, 6] [%{{.*}}, 2] [1, 1] : tensor<?x8xf32> to tensor<?x2xf32>
// CHECK: return %[[Q]], %[[K]], %[[V]]
// The weights, rows of q then k then v:
// CHECK: fused_linear_weight: "0x04000000
// CHECK-SAME: 0000803F0000004000004040
// CHECK-SAME: 0000C0400000E04000000041
// CHECK-SAME: 000010410000204100003041
func.func @qkv(%x: tensor<?x3xf32>) -> (tensor<?x4xf32>, tensor<?x2xf32>, tensor<?x2xf32>) {
  %wq = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0], [10.0, 11.0, 12.0]]> : tensor<4x3xf32>
  %wk = arith.constant dense<[[13.0, 14.0, 15.0], [16.0, 17.0, 18.0]]> : tensor<2x3xf32>
  %wv = arith.constant dense<[[19.0, 20.0, 21.0], [22.0, 23.0, 24.0]]> : tensor<2x3xf32>
  %q = llm.linear %x, %wq : (tensor<?x3xf32>, tensor<4x3xf32>) -> tensor<?x4xf32>
  %k = llm.linear %x, %wk : (tensor<?x3xf32>, tensor<2x3xf32>) -> tensor<?x2xf32>
  %v = llm.linear %x, %wv : (tensor<?x3xf32>, tensor<2x3xf32>) -> tensor<?x2xf32>
  return %q, %k, %v : tensor<?x4xf32>, tensor<?x2xf32>, tensor<?x2xf32>
}

// -----

// Left alone: a linear with a bias, a weight that is not a constant, and
// a linear of another input.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: fused_linear_weight
// CHECK-COUNT-4: llm.linear
// CHECK-NOT: tensor.extract_slice
func.func @left_alone(%x: tensor<2x3xf32>, %z: tensor<2x3xf32>, %w: tensor<2x3xf32>, %b: tensor<2xf32>)
    -> (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>) {
  %c = arith.constant dense<1.0> : tensor<2x3xf32>
  %c2 = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %a = llm.linear %x, %c2, %b : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  %d = llm.linear %x, %w : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x2xf32>
  %e = llm.linear %x, %c2 : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x2xf32>
  %f = llm.linear %z, %c2 : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x2xf32>
  return %a, %d, %e, %f : tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>
}

// -----

// Linears with biases fuse among themselves: the biases are concatenated.
// CHECK-LABEL: func.func @with_biases
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>, %[[B1:.*]]: tensor<2xf32>, %[[B2:.*]]: tensor<1xf32>)
// CHECK: %[[W:.*]] = arith.constant dense_resource<fused_linear_weight> : tensor<3x3xf32>
// CHECK: %[[B:.*]] = tensor.concat dim(0) %[[B1]], %[[B2]] : (tensor<2xf32>, tensor<1xf32>) -> tensor<3xf32>
// CHECK: %[[Y:.*]] = llm.linear %[[X]], %[[W]], %[[B]] : (tensor<2x3xf32>, tensor<3x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-DAG: tensor.extract_slice %[[Y]][0, 0] [2, 2] [1, 1]
// CHECK-DAG: tensor.extract_slice %[[Y]][0, 2] [2, 1] [1, 1]
func.func @with_biases(%x: tensor<2x3xf32>, %b1: tensor<2xf32>, %b2: tensor<1xf32>) -> (tensor<2x2xf32>, tensor<2x1xf32>) {
  %w1 = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %w2 = arith.constant dense<[[7.0, 8.0, 9.0]]> : tensor<1x3xf32>
  %y1 = llm.linear %x, %w1, %b1 : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  %y2 = llm.linear %x, %w2, %b2 : (tensor<2x3xf32>, tensor<1x3xf32>, tensor<1xf32>) -> tensor<2x1xf32>
  return %y1, %y2 : tensor<2x2xf32>, tensor<2x1xf32>
}
