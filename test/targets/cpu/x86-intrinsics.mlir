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

// Folding leaves constant factors (the lookup-table kernel's plane
// weights): a constant on the signed side, a constant moved right of a
// signed operand (its unsigned side), and a factor of ones dropped. Each
// becomes vpdpbusd with the constant as bytes.
// CHECK-LABEL: func.func @constant_factors
// CHECK-SAME: (%[[ACC:.*]]: vector<16xi32>, %[[A:.*]]: vector<64xi8>)
// CHECK: %[[TWO:.*]] = arith.constant dense<2> : vector<64xi8>
// CHECK: %[[D0:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%[[ACC]], %[[A]], %[[TWO]])
// CHECK: %[[FOUR:.*]] = arith.constant dense<4> : vector<64xi8>
// CHECK: %[[D1:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%[[D0]], %[[FOUR]], %[[A]])
// CHECK: %[[ONE:.*]] = arith.constant dense<1> : vector<64xi8>
// CHECK: %[[D2:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%[[D1]], %[[A]], %[[ONE]])
// CHECK: return %[[D2]]
func.func @constant_factors(%acc: vector<16xi32>, %a: vector<64xi8>) -> vector<16xi32> {
  %ua = arith.extui %a : vector<64xi8> to vector<64xi32>
  %sa = arith.extsi %a : vector<64xi8> to vector<64xi32>
  %two = arith.constant dense<2> : vector<64xi32>
  %four = arith.constant dense<4> : vector<64xi32>
  %p0 = arith.muli %ua, %two : vector<64xi32>
  %p1 = arith.muli %sa, %four : vector<64xi32>
  %s00 = vector.shuffle %p0, %p0 [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60] : vector<64xi32>, vector<64xi32>
  %s01 = vector.shuffle %p0, %p0 [1, 5, 9, 13, 17, 21, 25, 29, 33, 37, 41, 45, 49, 53, 57, 61] : vector<64xi32>, vector<64xi32>
  %s02 = vector.shuffle %p0, %p0 [2, 6, 10, 14, 18, 22, 26, 30, 34, 38, 42, 46, 50, 54, 58, 62] : vector<64xi32>, vector<64xi32>
  %s03 = vector.shuffle %p0, %p0 [3, 7, 11, 15, 19, 23, 27, 31, 35, 39, 43, 47, 51, 55, 59, 63] : vector<64xi32>, vector<64xi32>
  %l0 = arith.addi %s00, %s01 : vector<16xi32>
  %r0 = arith.addi %s02, %s03 : vector<16xi32>
  %q0 = arith.addi %l0, %r0 : vector<16xi32>
  %d0 = arith.addi %acc, %q0 {llm_cpu.vnni_dot} : vector<16xi32>
  %s10 = vector.shuffle %p1, %p1 [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60] : vector<64xi32>, vector<64xi32>
  %s11 = vector.shuffle %p1, %p1 [1, 5, 9, 13, 17, 21, 25, 29, 33, 37, 41, 45, 49, 53, 57, 61] : vector<64xi32>, vector<64xi32>
  %s12 = vector.shuffle %p1, %p1 [2, 6, 10, 14, 18, 22, 26, 30, 34, 38, 42, 46, 50, 54, 58, 62] : vector<64xi32>, vector<64xi32>
  %s13 = vector.shuffle %p1, %p1 [3, 7, 11, 15, 19, 23, 27, 31, 35, 39, 43, 47, 51, 55, 59, 63] : vector<64xi32>, vector<64xi32>
  %l1 = arith.addi %s10, %s11 : vector<16xi32>
  %r1 = arith.addi %s12, %s13 : vector<16xi32>
  %q1 = arith.addi %l1, %r1 : vector<16xi32>
  %d1 = arith.addi %d0, %q1 {llm_cpu.vnni_dot} : vector<16xi32>
  %s20 = vector.shuffle %ua, %ua [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60] : vector<64xi32>, vector<64xi32>
  %s21 = vector.shuffle %ua, %ua [1, 5, 9, 13, 17, 21, 25, 29, 33, 37, 41, 45, 49, 53, 57, 61] : vector<64xi32>, vector<64xi32>
  %s22 = vector.shuffle %ua, %ua [2, 6, 10, 14, 18, 22, 26, 30, 34, 38, 42, 46, 50, 54, 58, 62] : vector<64xi32>, vector<64xi32>
  %s23 = vector.shuffle %ua, %ua [3, 7, 11, 15, 19, 23, 27, 31, 35, 39, 43, 47, 51, 55, 59, 63] : vector<64xi32>, vector<64xi32>
  %l2 = arith.addi %s20, %s21 : vector<16xi32>
  %r2 = arith.addi %s22, %s23 : vector<16xi32>
  %q2 = arith.addi %l2, %r2 : vector<16xi32>
  %d2 = arith.addi %d1, %q2 {llm_cpu.vnni_dot} : vector<16xi32>
  return %d2 : vector<16xi32>
}

// One index vector looking up rows of a table buffer [rows, 2, 64] (the
// lookup-table kernel's lo and hi bytes): each gather becomes a load of
// its row and vpermb.
// CHECK-LABEL: func.func @shared_indices
// CHECK-SAME: (%[[TABLES:.*]]: memref<3x2x64xi8>, %[[IDX:.*]]: vector<64xi8>, %[[ROW:.*]]: index)
// CHECK: %[[LO:.*]] = vector.load %[[TABLES]][%[[ROW]], %{{.*}}, %{{.*}}] : memref<3x2x64xi8>, vector<64xi8>
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.permvar.qi.512"(%[[LO]], %[[IDX]])
// CHECK: %[[HI:.*]] = vector.load %[[TABLES]][%[[ROW]], %{{.*}}, %{{.*}}] : memref<3x2x64xi8>, vector<64xi8>
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.permvar.qi.512"(%[[HI]], %[[IDX]])
// CHECK-NOT: vector.gather
func.func @shared_indices(%tables: memref<3x2x64xi8>, %idx: vector<64xi8>, %row: index) -> (vector<64xi8>, vector<64xi8>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %all = arith.constant dense<true> : vector<64xi1>
  %zero = arith.constant dense<0> : vector<64xi8>
  %i = arith.extui %idx {llm_cpu.vbmi_lookup} : vector<64xi8> to vector<64xi32>
  %lo = vector.gather %tables[%row, %c0, %c0][%i], %all, %zero : memref<3x2x64xi8>, vector<64xi32>, vector<64xi1>, vector<64xi8> into vector<64xi8>
  %hi = vector.gather %tables[%row, %c1, %c0][%i], %all, %zero : memref<3x2x64xi8>, vector<64xi32>, vector<64xi1>, vector<64xi8> into vector<64xi8>
  return %lo, %hi : vector<64xi8>, vector<64xi8>
}
