// RUN: llm-opt %s --llm-cpu-approximate-math | FileCheck %s

// f32 exp, scalar or vector, becomes inline arithmetic (range reduction by
// ln 2, a polynomial, the exponent put back with a shift); other math ops
// stay.
// CHECK-LABEL: func.func @exp_and_others
// CHECK-NOT: math.exp
// CHECK: arith.constant 1.270000e+02 : f32
// CHECK: arith.shli
// CHECK: arith.shli {{.*}} : vector<16xi32>
// CHECK: math.sqrt
// CHECK: math.tanh
// CHECK-NOT: math.exp
func.func @exp_and_others(%x: f32, %v: vector<16xf32>) -> (f32, vector<16xf32>, f32, f32) {
  %e = math.exp %x : f32
  %ev = math.exp %v : vector<16xf32>
  %s = math.sqrt %x : f32
  %t = math.tanh %x : f32
  return %e, %ev, %s, %t : f32, vector<16xf32>, f32, f32
}
