// RUN: llm-opt %s --llm-cpu-x86-intrinsics --split-input-file --verify-diagnostics

// Lanes gathered in the wrong order are not vpdpbusd's sums: an error, not
// a silent rewrite.
func.func @wrong_lanes(%acc: vector<16xi32>, %a: vector<64xi8>, %b: vector<64xi8>) -> vector<16xi32> {
  %ua = arith.extui %a : vector<64xi8> to vector<64xi32>
  %sb = arith.extsi %b : vector<64xi8> to vector<64xi32>
  %p = arith.muli %ua, %sb : vector<64xi32>
  %s0 = vector.shuffle %p, %p [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] : vector<64xi32>, vector<64xi32>
  %s1 = vector.shuffle %p, %p [1, 5, 9, 13, 17, 21, 25, 29, 33, 37, 41, 45, 49, 53, 57, 61] : vector<64xi32>, vector<64xi32>
  %s2 = vector.shuffle %p, %p [2, 6, 10, 14, 18, 22, 26, 30, 34, 38, 42, 46, 50, 54, 58, 62] : vector<64xi32>, vector<64xi32>
  %s3 = vector.shuffle %p, %p [3, 7, 11, 15, 19, 23, 27, 31, 35, 39, 43, 47, 51, 55, 59, 63] : vector<64xi32>, vector<64xi32>
  %l = arith.addi %s0, %s1 : vector<16xi32>
  %r = arith.addi %s2, %s3 : vector<16xi32>
  %q = arith.addi %l, %r : vector<16xi32>
  // expected-error @+1 {{llm-cpu-x86-intrinsics: the sum tagged 'llm_cpu.vnni_dot' is not a 4-way dot product of vector<64xi8>}}
  %tagged = arith.addi %acc, %q {llm_cpu.vnni_dot} : vector<16xi32>
  return %tagged : vector<16xi32>
}

// -----

// Signed codes (extsi on both sides) are not vpdpbusd's unsigned × signed.
func.func @signed_codes(%acc: vector<16xi32>, %a: vector<64xi8>, %b: vector<64xi8>) -> vector<16xi32> {
  %ua = arith.extsi %a : vector<64xi8> to vector<64xi32>
  %sb = arith.extsi %b : vector<64xi8> to vector<64xi32>
  %p = arith.muli %ua, %sb : vector<64xi32>
  %s0 = vector.shuffle %p, %p [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60] : vector<64xi32>, vector<64xi32>
  %s1 = vector.shuffle %p, %p [1, 5, 9, 13, 17, 21, 25, 29, 33, 37, 41, 45, 49, 53, 57, 61] : vector<64xi32>, vector<64xi32>
  %s2 = vector.shuffle %p, %p [2, 6, 10, 14, 18, 22, 26, 30, 34, 38, 42, 46, 50, 54, 58, 62] : vector<64xi32>, vector<64xi32>
  %s3 = vector.shuffle %p, %p [3, 7, 11, 15, 19, 23, 27, 31, 35, 39, 43, 47, 51, 55, 59, 63] : vector<64xi32>, vector<64xi32>
  %l = arith.addi %s0, %s1 : vector<16xi32>
  %r = arith.addi %s2, %s3 : vector<16xi32>
  %q = arith.addi %l, %r : vector<16xi32>
  // expected-error @+1 {{is not a 4-way dot product}}
  %tagged = arith.addi %acc, %q {llm_cpu.vnni_dot} : vector<16xi32>
  return %tagged : vector<16xi32>
}

// -----

// vpermb indexes 64 bytes: a larger table is an error.
func.func @large_table(%table: memref<128xi8>, %idx: vector<64xi8>) -> vector<64xi8> {
  %c0 = arith.constant 0 : index
  %all = arith.constant dense<true> : vector<64xi1>
  %zero = arith.constant dense<0> : vector<64xi8>
  // expected-error @+1 {{llm-cpu-x86-intrinsics: the indices tagged 'llm_cpu.vbmi_lookup' do not feed lookups of 64 bytes in 64-byte tables}}
  %i = arith.extui %idx {llm_cpu.vbmi_lookup} : vector<64xi8> to vector<64xi32>
  %r = vector.gather %table[%c0][%i], %all, %zero : memref<128xi8>, vector<64xi32>, vector<64xi1>, vector<64xi8> into vector<64xi8>
  return %r : vector<64xi8>
}

// -----

// A table row must be read from its start: vpermb loads 64 bytes there.
func.func @offset_row(%tables: memref<4x64xi8>, %idx: vector<64xi8>) -> vector<64xi8> {
  %c1 = arith.constant 1 : index
  %all = arith.constant dense<true> : vector<64xi1>
  %zero = arith.constant dense<0> : vector<64xi8>
  // expected-error @+1 {{do not feed lookups of 64 bytes in 64-byte tables}}
  %i = arith.extui %idx {llm_cpu.vbmi_lookup} : vector<64xi8> to vector<64xi32>
  %r = vector.gather %tables[%c1, %c1][%i], %all, %zero : memref<4x64xi8>, vector<64xi32>, vector<64xi1>, vector<64xi8> into vector<64xi8>
  return %r : vector<64xi8>
}

// -----

// A constant factor must fit a byte of its side: 200 is not a signed byte.
func.func @wide_constant(%acc: vector<16xi32>, %a: vector<64xi8>) -> vector<16xi32> {
  %ua = arith.extui %a : vector<64xi8> to vector<64xi32>
  %k = arith.constant dense<200> : vector<64xi32>
  %p = arith.muli %ua, %k : vector<64xi32>
  %s0 = vector.shuffle %p, %p [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60] : vector<64xi32>, vector<64xi32>
  %s1 = vector.shuffle %p, %p [1, 5, 9, 13, 17, 21, 25, 29, 33, 37, 41, 45, 49, 53, 57, 61] : vector<64xi32>, vector<64xi32>
  %s2 = vector.shuffle %p, %p [2, 6, 10, 14, 18, 22, 26, 30, 34, 38, 42, 46, 50, 54, 58, 62] : vector<64xi32>, vector<64xi32>
  %s3 = vector.shuffle %p, %p [3, 7, 11, 15, 19, 23, 27, 31, 35, 39, 43, 47, 51, 55, 59, 63] : vector<64xi32>, vector<64xi32>
  %l = arith.addi %s0, %s1 : vector<16xi32>
  %r = arith.addi %s2, %s3 : vector<16xi32>
  %q = arith.addi %l, %r : vector<16xi32>
  // expected-error @+1 {{is not a 4-way dot product}}
  %tagged = arith.addi %acc, %q {llm_cpu.vnni_dot} : vector<16xi32>
  return %tagged : vector<16xi32>
}
