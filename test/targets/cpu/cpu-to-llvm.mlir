// llm-cpu-to-llvm: linalg/arith on tensors to the LLVM dialect, nothing of
// tensors, memrefs or loops left; with `openmp`, scf.forall loops become
// OpenMP parallel loops (without it, sequential ones).
// RUN: llm-opt %s --llm-cpu-to-llvm | FileCheck %s
// RUN: llm-opt %s --pass-pipeline='builtin.module(llm-cpu-to-llvm{openmp})' | FileCheck %s --check-prefix=OMP
// RUN: not llm-opt %s --pass-pipeline='builtin.module(llm-cpu-to-llvm{fast=1})' 2>&1 | FileCheck %s --check-prefix=OPTIONS

// CHECK-LABEL: llvm.func @double
// CHECK: llvm.fadd
// CHECK-NOT: tensor<
// CHECK-NOT: memref<
// CHECK-NOT: scf.
// CHECK-NOT: omp.
// OPTIONS: error: llm-cpu-to-llvm takes one option, 'openmp', got 'fast=1'
func.func @double(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = arith.addf %x, %x : tensor<4xf32>
  return %y : tensor<4xf32>
}

// CHECK-LABEL: llvm.func @blocks
// CHECK-NOT: omp.
// OMP-LABEL: llvm.func @blocks
// OMP: omp.parallel
// OMP: omp.wsloop
// OMP: llvm.fmul
func.func @blocks(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %init = tensor.empty() : tensor<2x8xf32>
  %r = scf.forall (%i) in (2) shared_outs(%o = %init) -> (tensor<2x8xf32>) {
    %row = tensor.extract_slice %x[%i, 0] [1, 8] [1, 1] : tensor<2x8xf32> to tensor<1x8xf32>
    %sq = arith.mulf %row, %row : tensor<1x8xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %sq into %o[%i, 0] [1, 8] [1, 1] : tensor<1x8xf32> into tensor<2x8xf32>
    }
  }
  return %r : tensor<2x8xf32>
}
