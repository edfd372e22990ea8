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
