// RUN: llm-opt %s --llm-cpu-x86-intrinsics | FileCheck %s

// The tagged sum of a 4-way dot product (unsigned a, signed b) becomes
// vpdpbusd; an untagged one stays plain vector arithmetic.
// CHECK-LABEL: func.func @dot
// CHECK-SAME: (%[[ACC:.*]]: vector<16xi32>, %[[A:.*]]: vector<64xi8>, %[[B:.*]]: vector<64xi8>)
// CHECK: %[[DOT:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%[[ACC]], %[[A]], %[[B]]) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// CHECK: arith.addi
// CHECK-NOT: llvm.call_intrinsic
// CHECK: return %[[DOT]], %{{.*}}
func.func @dot(%acc: vector<16xi32>, %a: vector<64xi8>, %b: vector<64xi8>) -> (vector<16xi32>, vector<16xi32>) {
  %ua = arith.extui %a : vector<64xi8> to vector<64xi32>
  %sb = arith.extsi %b : vector<64xi8> to vector<64xi32>
  %p = arith.muli %ua, %sb : vector<64xi32>
  %s0 = vector.shuffle %p, %p [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60] : vector<64xi32>, vector<64xi32>
  %s1 = vector.shuffle %p, %p [1, 5, 9, 13, 17, 21, 25, 29, 33, 37, 41, 45, 49, 53, 57, 61] : vector<64xi32>, vector<64xi32>
  %s2 = vector.shuffle %p, %p [2, 6, 10, 14, 18, 22, 26, 30, 34, 38, 42, 46, 50, 54, 58, 62] : vector<64xi32>, vector<64xi32>
  %s3 = vector.shuffle %p, %p [3, 7, 11, 15, 19, 23, 27, 31, 35, 39, 43, 47, 51, 55, 59, 63] : vector<64xi32>, vector<64xi32>
  %l = arith.addi %s0, %s1 : vector<16xi32>
  %r = arith.addi %s2, %s3 : vector<16xi32>
  %q = arith.addi %l, %r : vector<16xi32>
  %tagged = arith.addi %acc, %q {llm_cpu.vnni_dot} : vector<16xi32>
  %plain = arith.addi %acc, %q : vector<16xi32>
  return %tagged, %plain : vector<16xi32>, vector<16xi32>
}

// A tagged lookup of 64 bytes in a 64-byte table becomes a load of the
// table and vpermb; an untagged gather stays.
// CHECK-LABEL: func.func @lookup
// CHECK-SAME: (%[[TABLE:.*]]: memref<64xi8>, %[[IDX:.*]]: vector<64xi8>)
// CHECK: %[[T:.*]] = vector.load %[[TABLE]][%{{.*}}] : memref<64xi8>, vector<64xi8>
// CHECK: %[[R:.*]] = llvm.call_intrinsic "llvm.x86.avx512.permvar.qi.512"(%[[T]], %[[IDX]]) : (vector<64xi8>, vector<64xi8>) -> vector<64xi8>
// CHECK: %[[PLAIN:.*]] = vector.gather
// CHECK: return %[[R]], %[[PLAIN]]
func.func @lookup(%table: memref<64xi8>, %idx: vector<64xi8>) -> (vector<64xi8>, vector<64xi8>) {
  %c0 = arith.constant 0 : index
  %all = arith.constant dense<true> : vector<64xi1>
  %zero = arith.constant dense<0> : vector<64xi8>
  %i = arith.extui %idx {llm_cpu.vbmi_lookup} : vector<64xi8> to vector<64xi32>
  %r = vector.gather %table[%c0][%i], %all, %zero : memref<64xi8>, vector<64xi32>, vector<64xi1>, vector<64xi8> into vector<64xi8>
  %j = arith.extui %idx : vector<64xi8> to vector<64xi32>
  %p = vector.gather %table[%c0][%j], %all, %zero : memref<64xi8>, vector<64xi32>, vector<64xi1>, vector<64xi8> into vector<64xi8>
  return %r, %p : vector<64xi8>, vector<64xi8>
}
