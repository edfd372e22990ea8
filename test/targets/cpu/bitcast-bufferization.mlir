// tensor.bitcast (the importer's ui8 <-> i8 re-tagging) bufferizes to a view
// of the same buffer, and the lowered code runs with unsigned semantics.
// RUN: llm-opt %s -convert-elementwise-to-linalg '-one-shot-bufferize=bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map' | FileCheck %s
// RUN: llm-opt %s %llmc_jit_lowering | %mlir_runner | FileCheck %s --check-prefix=OUT

// CHECK-LABEL: func.func @divide_u8
// CHECK-SAME: (%[[A:.*]]: memref<4xui8>, %[[B:.*]]: memref<4xui8>) -> memref<4xui8>
// CHECK-DAG: %[[X:.*]] = builtin.unrealized_conversion_cast %[[A]] : memref<4xui8> to memref<4xi8>
// CHECK-DAG: %[[Y:.*]] = builtin.unrealized_conversion_cast %[[B]] : memref<4xui8> to memref<4xi8>
// CHECK: linalg.generic {{.*}} ins(%[[X]], %[[Y]] : memref<4xi8>, memref<4xi8>)
// CHECK: arith.divui
// CHECK: %[[R:.*]] = builtin.unrealized_conversion_cast %{{.*}} : memref<4xi8> to memref<4xui8>
// CHECK: return %[[R]] : memref<4xui8>
func.func @divide_u8(%a: tensor<4xui8>, %b: tensor<4xui8>) -> tensor<4xui8> {
  %x = tensor.bitcast %a : tensor<4xui8> to tensor<4xi8>
  %y = tensor.bitcast %b : tensor<4xui8> to tensor<4xi8>
  %q = arith.divui %x, %y : tensor<4xi8>
  %r = tensor.bitcast %q : tensor<4xi8> to tensor<4xui8>
  return %r : tensor<4xui8>
}

// Unranked tensors view their unranked buffer the same way.
// CHECK-LABEL: func.func @unranked
// CHECK: builtin.unrealized_conversion_cast %{{.*}} : memref<*xui8> to memref<*xi8>
func.func @unranked(%a: tensor<*xui8>) -> tensor<*xi8> {
  %x = tensor.bitcast %a : tensor<*xui8> to tensor<*xi8>
  return %x : tensor<*xi8>
}

// 200/100, 255/1, 7/9, 250/2 as unsigned bytes; signed division would give
// 0 (-56/100), -1 and -3 in the first, second and last places.
// OUT: [2,  255,  0,  125]
func.func @entry() {
  %a = arith.constant dense<[200, 255, 7, 250]> : tensor<4xui8>
  %b = arith.constant dense<[100, 1, 9, 2]> : tensor<4xui8>
  %r = func.call @divide_u8(%a, %b) : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  %bits = tensor.bitcast %r : tensor<4xui8> to tensor<4xi8>
  %wide = arith.extui %bits : tensor<4xi8> to tensor<4xi32>
  %m = bufferization.to_buffer %wide : tensor<4xi32> to memref<4xi32>
  %u = memref.cast %m : memref<4xi32> to memref<*xi32>
  func.call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}
func.func private @printMemrefI32(memref<*xi32>)
