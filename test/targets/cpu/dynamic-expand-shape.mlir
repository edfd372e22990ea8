// RUN: llm-opt %s --llm-cpu-dynamic-expand-shape | FileCheck %s
// RUN: llm-opt %s --llm-cpu-dynamic-expand-shape --expand-strided-metadata | FileCheck %s --check-prefix=LOWERED

// Splitting a dimension into two dynamic ones: a reinterpret_cast with
// row-major strides (expand-strided-metadata crashes on the expand_shape).
// CHECK-LABEL: func.func @split(
// CHECK-SAME: %[[M:.*]]: memref<?x64xf32>, %[[A:.*]]: index, %[[B:.*]]: index)
// CHECK: %[[C64:.*]] = arith.constant 64 : index
// CHECK: %[[S0:.*]] = arith.muli %[[B]], %[[C64]] : index
// CHECK: memref.reinterpret_cast %[[M]] to offset: [0], sizes: [%[[A]], %[[B]], 64], strides: [%[[S0]], 64, 1]
// LOWERED-LABEL: func.func @split(
// LOWERED-NOT: memref.expand_shape
func.func @split(%m: memref<?x64xf32>, %a: index, %b: index) -> memref<?x?x64xf32> {
  %e = memref.expand_shape %m [[0, 1], [2]] output_shape [%a, %b, 64] : memref<?x64xf32> into memref<?x?x64xf32>
  return %e : memref<?x?x64xf32>
}

// One dynamic size per group is left to upstream.
// CHECK-LABEL: func.func @single(
// CHECK: memref.expand_shape
func.func @single(%m: memref<?x64xf32>, %a: index) -> memref<?x4x16xf32> {
  %e = memref.expand_shape %m [[0], [1, 2]] output_shape [%a, 4, 16] : memref<?x64xf32> into memref<?x4x16xf32>
  return %e : memref<?x4x16xf32>
}
