// RUN: llm-opt %s --llm-raise-report -o /dev/null 2>&1 | FileCheck %s
// RUN: llm-opt %s --llm-raise-report=file=%t.txt -o /dev/null && FileCheck %s < %t.txt

// CHECK: llm-raise-report @f
// CHECK-NEXT: recognised: 3 (llm.linear 2, llm.silu 1)
// CHECK-NEXT: swiglu: 1
// CHECK-NEXT: generic compute: 1 (arith.mulf 1)
// CHECK-NEXT: layout: 1 (arith.constant 1)
// CHECK-NEXT: shape computation: 1 (tensor.dim 1)
func.func @f(%x: tensor<?x4xf32>, %wg: tensor<8x4xf32>, %wu: tensor<8x4xf32>) -> (tensor<?x8xf32>, index) {
  %g = llm.linear %x, %wg : (tensor<?x4xf32>, tensor<8x4xf32>) -> tensor<?x8xf32>
  %u = llm.linear %x, %wu : (tensor<?x4xf32>, tensor<8x4xf32>) -> tensor<?x8xf32>
  %s = llm.silu %g : tensor<?x8xf32>
  %y = arith.mulf %s, %u : tensor<?x8xf32>
  %c0 = arith.constant 0 : index
  %d = tensor.dim %x, %c0 : tensor<?x4xf32>
  return %y, %d : tensor<?x8xf32>, index
}
