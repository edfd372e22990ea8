// RUN: llm-opt %s --llm-cpu-copies-to-linalg | FileCheck %s

// A copy into a strided view becomes linalg.copy (loops, no call into MLIR's
// runner library); a contiguous one stays memref.copy (memcpy).
// CHECK-LABEL: func.func @copies(
// CHECK: linalg.copy ins(%{{.*}} : memref<2x4xf32>) outs(%{{.*}} : memref<2x4xf32, strided<[8, 1], offset: ?>>)
// CHECK: memref.copy %{{.*}}, %{{.*}} : memref<2x4xf32> to memref<2x4xf32>
func.func @copies(%src: memref<2x4xf32>, %dst: memref<2x8xf32>, %dst2: memref<2x4xf32>, %i: index) {
  %view = memref.subview %dst[0, %i] [2, 4] [1, 1] : memref<2x8xf32> to memref<2x4xf32, strided<[8, 1], offset: ?>>
  memref.copy %src, %view : memref<2x4xf32> to memref<2x4xf32, strided<[8, 1], offset: ?>>
  memref.copy %src, %dst2 : memref<2x4xf32> to memref<2x4xf32>
  return
}

// Unranked copies are left alone (this used to crash the pass).
// CHECK-LABEL: func.func @unranked(
// CHECK: memref.copy %{{.*}}, %{{.*}} : memref<*xf32> to memref<*xf32>
func.func @unranked(%src: memref<*xf32>, %dst: memref<*xf32>) {
  memref.copy %src, %dst : memref<*xf32> to memref<*xf32>
  return
}

// A copy from the target itself seen through expand/collapse views (a
// result computed in the output buffer) is erased; a copy from a subview of
// the target is not a no-op and stays.
// CHECK-LABEL: func.func @onto_itself(
// CHECK-NOT: memref.copy %{{.*}}, %{{.*}} : memref<?x8xf32> to memref<?x8xf32>
// CHECK: linalg.copy
// CHECK-NOT: copy
// CHECK: return
func.func @onto_itself(%out: memref<?x8xf32>, %n: index, %i: index) {
  %panels = memref.expand_shape %out [[0], [1, 2]] output_shape [%n, 2, 4] : memref<?x8xf32> into memref<?x2x4xf32>
  %back = memref.collapse_shape %panels [[0], [1, 2]] : memref<?x2x4xf32> into memref<?x8xf32>
  memref.copy %back, %out : memref<?x8xf32> to memref<?x8xf32>
  %part = memref.subview %out[0, %i] [%n, 4] [1, 1] : memref<?x8xf32> to memref<?x4xf32, strided<[8, 1], offset: ?>>
  %part2 = memref.subview %out[0, 0] [%n, 4] [1, 1] : memref<?x8xf32> to memref<?x4xf32, strided<[8, 1]>>
  memref.copy %part, %part2 : memref<?x4xf32, strided<[8, 1], offset: ?>> to memref<?x4xf32, strided<[8, 1]>>
  return
}
