// RUN: llm-opt %s --pass-pipeline="builtin.module(func.func(llm-cpu-parallelize{chunks=4 min-work=100}),canonicalize,cse)" --split-input-file | FileCheck %s

// An elementwise op and a row reduction over [B, T, 512]: both split into 4
// chunks along T (the last dynamic parallel loop) when B * T * 512 reaches
// min-work, and stay as they were otherwise.
#map = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @norm_like
// CHECK: %[[B:.*]] = tensor.dim %{{.*}}, %c0
// CHECK: %[[T:.*]] = tensor.dim %{{.*}}, %c1
// CHECK: %[[BT:.*]] = arith.muli %[[B]], %[[T]]
// CHECK: %[[WORK:.*]] = arith.muli %[[BT]], %c512
// CHECK: %[[BIG:.*]] = arith.cmpi sge, %[[WORK]], %c100
// CHECK: scf.if %[[BIG]]
// CHECK: scf.forall (%{{.*}}) in (4)
// CHECK: tensor.extract_slice %{{.*}}[0, %{{.*}}, 0] [%[[B]], %{{.*}}, 512]
// CHECK: linalg.generic
// CHECK: tensor.parallel_insert_slice
// CHECK: } else {
// CHECK-NEXT: linalg.generic
// CHECK: scf.if
// CHECK: scf.forall (%{{.*}}) in (4)
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: } else {
func.func @norm_like(%x: tensor<?x?x512xf32>, %acc: tensor<?x?xf32>) -> (tensor<?x?x512xf32>, tensor<?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %b = tensor.dim %x, %c0 : tensor<?x?x512xf32>
  %t = tensor.dim %x, %c1 : tensor<?x?x512xf32>
  %e = tensor.empty(%b, %t) : tensor<?x?x512xf32>
  %y = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x : tensor<?x?x512xf32>) outs(%e : tensor<?x?x512xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %a : f32
    linalg.yield %m : f32
  } -> tensor<?x?x512xf32>
  %s = linalg.generic {indexing_maps = [#map, #row], iterator_types = ["parallel", "parallel", "reduction"]} ins(%y : tensor<?x?x512xf32>) outs(%acc : tensor<?x?xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.addf %a, %o : f32
    linalg.yield %m : f32
  } -> tensor<?x?xf32>
  return %y, %s : tensor<?x?x512xf32>, tensor<?x?xf32>
}

// -----

// Static shapes: the largest parallel loop (64) is split; the guard folds
// away when the size is known to reach min-work. Ops inside loops (parts
// of kernels) and reductions with no parallel loop are left alone.
// CHECK-LABEL: func.func @static_and_nested
// CHECK-NOT: scf.if
// CHECK: scf.forall (%{{.*}}) in (4)
// CHECK: linalg.transpose ins(%{{.*}} : tensor<4x16xf32>) outs(%{{.*}} : tensor<16x4xf32>)
// CHECK: scf.for
// CHECK-NOT: scf.forall
// CHECK: linalg.transpose
// CHECK: linalg.reduce
// CHECK-NOT: scf.forall
func.func @static_and_nested(%x: tensor<4x64xf32>, %n: index) -> (tensor<64x4xf32>, tensor<64x4xf32>, tensor<f32>) {
  %e = tensor.empty() : tensor<64x4xf32>
  %t = linalg.transpose ins(%x : tensor<4x64xf32>) outs(%e : tensor<64x4xf32>) permutation = [1, 0]
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %l = scf.for %i = %c0 to %n step %c1 iter_args(%a = %e) -> tensor<64x4xf32> {
    %u = linalg.transpose ins(%x : tensor<4x64xf32>) outs(%a : tensor<64x4xf32>) permutation = [1, 0]
    scf.yield %u : tensor<64x4xf32>
  }
  %z = tensor.empty() : tensor<f32>
  %r = linalg.reduce ins(%x : tensor<4x64xf32>) outs(%z : tensor<f32>) dimensions = [0, 1]
    (%a: f32, %b: f32) {
      %s = arith.addf %a, %b : f32
      linalg.yield %s : f32
    }
  return %t, %l, %r : tensor<64x4xf32>, tensor<64x4xf32>, tensor<f32>
}

// -----

// Elementwise arith on tensors (a residual add, SiLU times the up
// projection) becomes a linalg.generic into a new tensor, not into its
// first operand (which the function still returns), and is split like the
// others. The add is read by the product only, so both run in the same
// chunks of one parallel region. Ops on scalars and inside loops are left
// alone.
// CHECK-LABEL: func.func @tensor_arith
// CHECK-NOT: arith.addf {{.*}} : tensor
// CHECK: %[[NEW:.*]] = tensor.empty(%{{.*}}, %{{.*}}) : tensor<?x?x512xf32>
// CHECK: scf.if
// CHECK: scf.forall (%{{.*}}) in (4) shared_outs(%{{.*}} = %[[NEW]]) -> (tensor<?x?x512xf32>)
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<?x?x512xf32>, tensor<?x?x512xf32>) outs(%{{.*}} : tensor<?x?x512xf32>)
// CHECK: arith.addf %{{.*}}, %{{.*}} : f32
// CHECK-NOT: scf.forall
// CHECK: arith.mulf %{{.*}}, %{{.*}} fastmath<contract> : f32
// CHECK: tensor.parallel_insert_slice
// CHECK: } else {
// CHECK-NEXT: linalg.generic
// CHECK: arith.addf
// CHECK: linalg.generic
// CHECK: arith.mulf
// CHECK: arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK: scf.for
// CHECK: arith.subf %{{.*}}, %{{.*}} : tensor<4xf32>
// CHECK: return %arg0,
func.func @tensor_arith(%x: tensor<?x?x512xf32>, %r: tensor<?x?x512xf32>, %a: f32, %v: tensor<4xf32>, %n: index) -> (tensor<?x?x512xf32>, tensor<?x?x512xf32>, f32, tensor<4xf32>) {
  %s = arith.addf %x, %r : tensor<?x?x512xf32>
  %p = arith.mulf %s, %r fastmath<contract> : tensor<?x?x512xf32>
  %q = arith.mulf %a, %a : f32
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %l = scf.for %i = %c0 to %n step %c1 iter_args(%w = %v) -> tensor<4xf32> {
    %d = arith.subf %w, %v : tensor<4xf32>
    scf.yield %d : tensor<4xf32>
  }
  return %x, %p, %q, %l : tensor<?x?x512xf32>, tensor<?x?x512xf32>, f32, tensor<4xf32>
}

// -----

// RMSNorm as lowered (zeros, sum of squares per row, scaled rows): the fill
// and the reduction are read only by the last op, so all three run chunk
// by chunk in one parallel region (one fork and join instead of three), with
// no whole-tensor copy of them left before it. The square, read by the
// returned value too, gets its own region.
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#rows3 = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @norm_group
// CHECK: scf.if
// CHECK: scf.forall (%{{.*}}) in (4)
// CHECK: arith.mulf
// CHECK: } else {
// CHECK: scf.if
// CHECK-NEXT: scf.forall (%{{.*}}) in (4)
// CHECK-NOT: scf.forall
// CHECK: linalg.fill {{.*}} -> tensor<?x?xf32>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: math.rsqrt
// CHECK: tensor.parallel_insert_slice
// CHECK: } else {
// CHECK-NEXT: linalg.fill
// CHECK-NEXT: linalg.generic
// CHECK: linalg.generic
// CHECK: math.rsqrt
func.func @norm_group(%in: tensor<?x?x512xf32>) -> (tensor<?x?x512xf32>, tensor<?x?x512xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %b = tensor.dim %in, %c0 : tensor<?x?x512xf32>
  %t = tensor.dim %in, %c1 : tensor<?x?x512xf32>
  %e3 = tensor.empty(%b, %t) : tensor<?x?x512xf32>
  %x = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%in : tensor<?x?x512xf32>) outs(%e3 : tensor<?x?x512xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %a : f32
    linalg.yield %m : f32
  } -> tensor<?x?x512xf32>
  %e2 = tensor.empty(%b, %t) : tensor<?x?xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e2 : tensor<?x?xf32>) -> tensor<?x?xf32>
  %ss = linalg.generic {indexing_maps = [#id3, #rows3], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x : tensor<?x?x512xf32>) outs(%z : tensor<?x?xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %a : f32
    %s = arith.addf %m, %o : f32
    linalg.yield %s : f32
  } -> tensor<?x?xf32>
  %d1 = tensor.dim %ss, %c1 : tensor<?x?xf32>
  %e4 = tensor.empty(%b, %d1) : tensor<?x?x512xf32>
  %y = linalg.generic {indexing_maps = [#id3, #rows3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %ss : tensor<?x?x512xf32>, tensor<?x?xf32>) outs(%e4 : tensor<?x?x512xf32>) {
  ^bb0(%a: f32, %r: f32, %o: f32):
    %q = math.rsqrt %r : f32
    %m = arith.mulf %a, %q : f32
    linalg.yield %m : f32
  } -> tensor<?x?x512xf32>
  return %x, %y : tensor<?x?x512xf32>, tensor<?x?x512xf32>
}

// -----

// A producer taken into a later op's region (%a into %d's) lies before an
// op processed after it (%c): it is not looked at again (it was erased;
// reading it was a use after free, seen under AddressSanitizer).
#id2 = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @taken_before_other
// CHECK: scf.forall
// CHECK: math.exp
// CHECK: scf.forall
// CHECK: arith.addf
// CHECK: arith.mulf
// CHECK: return
func.func @taken_before_other(%x: tensor<64x32xf32>, %y: tensor<64x32xf32>) -> (tensor<64x32xf32>, tensor<64x32xf32>) {
  %e = tensor.empty() : tensor<64x32xf32>
  %a = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<64x32xf32>) outs(%e : tensor<64x32xf32>) {
  ^bb0(%in: f32, %o: f32):
    %m = arith.addf %in, %in : f32
    linalg.yield %m : f32
  } -> tensor<64x32xf32>
  %c = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%y : tensor<64x32xf32>) outs(%e : tensor<64x32xf32>) {
  ^bb0(%in: f32, %o: f32):
    %m = math.exp %in : f32
    linalg.yield %m : f32
  } -> tensor<64x32xf32>
  %d = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%a, %c : tensor<64x32xf32>, tensor<64x32xf32>) outs(%e : tensor<64x32xf32>) {
  ^bb0(%in: f32, %in2: f32, %o: f32):
    %m = arith.mulf %in, %in2 : f32
    linalg.yield %m : f32
  } -> tensor<64x32xf32>
  return %c, %d : tensor<64x32xf32>, tensor<64x32xf32>
}
