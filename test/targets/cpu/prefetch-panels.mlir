// RUN: llm-opt %s --llm-cpu-prefetch-panels --split-input-file | FileCheck %s

// A tile's k step on bufferized panels [3, 64, 32] f32: before the tagged
// multiply-add's weight read, the same row of the next panel (the last
// panel fetches itself: no address past the weights) is prefetched into
// L2, one prefetch per 64-byte line (2 for 32 floats); the tag is dropped.
// CHECK-LABEL: func.func @tile_step
// CHECK-SAME: (%[[W:.*]]: memref<3x64x32xf32>, %[[P:.*]]: index, %[[K:.*]]: index, %[[A:.*]]: vector<32xf32>, %[[ACC:.*]]: vector<32xf32>)
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[C1:.*]] = arith.constant 1 : index
// CHECK: %[[NEXT:.*]] = arith.addi %[[P]], %[[C1]] : index
// CHECK: %[[C2:.*]] = arith.constant 2 : index
// CHECK: %[[CLAMPED:.*]] = arith.minui %[[NEXT]], %[[C2]] : index
// CHECK: memref.prefetch %[[W]][%[[CLAMPED]], %[[K]], %[[C0]]], read, locality<2>, data : memref<3x64x32xf32>
// CHECK: %[[C16:.*]] = arith.constant 16 : index
// CHECK: %[[SECOND:.*]] = arith.addi %[[C0]], %[[C16]] : index
// CHECK: memref.prefetch %[[W]][%[[CLAMPED]], %[[K]], %[[SECOND]]], read, locality<2>, data : memref<3x64x32xf32>
// CHECK-NOT: memref.prefetch
// CHECK: %[[ROW:.*]] = vector.transfer_read %[[W]][%[[P]], %[[K]], %[[C0]]]
// CHECK: %[[R0:.*]] = vector.fma %[[A]], %[[ROW]], %[[ACC]] : vector<32xf32>
// CHECK-NOT: llm_cpu.prefetch_next_panel
// CHECK: vector.fma %[[A]], %[[ROW]], %[[R0]] : vector<32xf32>
func.func @tile_step(%w: memref<3x64x32xf32>, %p: index, %k: index, %a: vector<32xf32>, %acc: vector<32xf32>) -> vector<32xf32> {
  %c0 = arith.constant 0 : index
  %pad = arith.constant 0.0 : f32
  %row = vector.transfer_read %w[%p, %k, %c0], %pad {in_bounds = [true]} : memref<3x64x32xf32>, vector<32xf32>
  %r0 = vector.fma %a, %row, %acc {llm_cpu.prefetch_next_panel} : vector<32xf32>
  %r1 = vector.fma %a, %row, %r0 : vector<32xf32>
  return %r1 : vector<32xf32>
}

// -----

// Panels of 16 floats are one line: one prefetch. Untagged multiply-adds
// (decode's GEMV) get none.
// CHECK-LABEL: func.func @narrow_panel
// CHECK-COUNT-1: memref.prefetch
// CHECK-NOT: memref.prefetch
// CHECK-LABEL: func.func @untagged
// CHECK-NOT: memref.prefetch
func.func @narrow_panel(%w: memref<4x8x16xf32>, %p: index, %k: index, %a: vector<16xf32>, %acc: vector<16xf32>) -> vector<16xf32> {
  %c0 = arith.constant 0 : index
  %pad = arith.constant 0.0 : f32
  %row = vector.transfer_read %w[%p, %k, %c0], %pad {in_bounds = [true]} : memref<4x8x16xf32>, vector<16xf32>
  %r = vector.fma %a, %row, %acc {llm_cpu.prefetch_next_panel} : vector<16xf32>
  return %r : vector<16xf32>
}
func.func @untagged(%w: memref<4x8x16xf32>, %p: index, %k: index, %a: vector<16xf32>, %acc: vector<16xf32>) -> vector<16xf32> {
  %c0 = arith.constant 0 : index
  %pad = arith.constant 0.0 : f32
  %row = vector.transfer_read %w[%p, %k, %c0], %pad {in_bounds = [true]} : memref<4x8x16xf32>, vector<16xf32>
  %r = vector.fma %a, %row, %acc : vector<16xf32>
  return %r : vector<16xf32>
}
