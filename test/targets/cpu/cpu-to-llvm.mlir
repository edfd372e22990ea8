// llm-cpu-to-llvm: linalg/arith on tensors to the LLVM dialect, nothing of
// tensors, memrefs or loops left.
// RUN: llm-opt %s --llm-cpu-to-llvm | FileCheck %s
// RUN: not llm-opt %s --pass-pipeline='builtin.module(llm-cpu-to-llvm{fast=1})' 2>&1 | FileCheck %s --check-prefix=OPTIONS

// CHECK-LABEL: llvm.func @double
// CHECK: llvm.fadd
// CHECK-NOT: tensor<
// CHECK-NOT: memref<
// CHECK-NOT: scf.
// OPTIONS: error: llm-cpu-to-llvm takes no options
func.func @double(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = arith.addf %x, %x : tensor<4xf32>
  return %y : tensor<4xf32>
}
