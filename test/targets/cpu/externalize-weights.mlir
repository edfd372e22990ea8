// RUN: llm-opt %s --llm-cpu-externalize-weights=min-bytes=64 | FileCheck %s

// Constants of 64 bytes and more move to a weights buffer argument at
// 64-byte aligned offsets, identical ones sharing one; smaller constants
// and splats stay in the code.
// CHECK-LABEL: func.func @model(
// CHECK-SAME: %[[X:.*]]: tensor<4x4xf32>, %[[W:.*]]: memref<?xi8> {llm.role = "weights"})
// CHECK: %[[OFF0:.*]] = arith.constant 0 : index
// CHECK: %[[V0:.*]] = memref.view %[[W]][%[[OFF0]]][] : memref<?xi8> to memref<4x4xf32>
// CHECK: bufferization.to_tensor %[[V0]] restrict : memref<4x4xf32> to tensor<4x4xf32>
// CHECK: %[[OFF1:.*]] = arith.constant 64 : index
// CHECK: memref.view %[[W]][%[[OFF1]]][] : memref<?xi8> to memref<3x6xf32>
// CHECK: %[[OFF0B:.*]] = arith.constant 0 : index
// CHECK: memref.view %[[W]][%[[OFF0B]]][] : memref<?xi8> to memref<4x4xf32>
// CHECK: arith.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: arith.constant dense<3.000000e+00> : tensor<4x4xf32>
// 64 + 72 bytes, rounded up to a multiple of 64:
// CHECK: %[[OFF2:.*]] = arith.constant 192 : index
// CHECK: memref.view %[[W]][%[[OFF2]]][] : memref<?xi8> to memref<2x5xi64>
func.func @model(%x: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<3x6xf32>, tensor<4x4xf32>,
                                        tensor<2xf32>, tensor<4x4xf32>, tensor<2x5xi64>) {
  %a = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0], [13.0, 14.0, 15.0, 16.0]]> : tensor<4x4xf32>
  %b = arith.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [1.0, 2.0, 3.0, 4.0, 5.0, 7.0]]> : tensor<3x6xf32>
  %c = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0], [13.0, 14.0, 15.0, 16.0]]> : tensor<4x4xf32>
  %small = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %splat = arith.constant dense<3.0> : tensor<4x4xf32>
  %i = arith.constant dense<[[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]> : tensor<2x5xi64>
  return %a, %b, %c, %small, %splat, %i : tensor<4x4xf32>, tensor<3x6xf32>, tensor<4x4xf32>, tensor<2xf32>, tensor<4x4xf32>, tensor<2x5xi64>
}
