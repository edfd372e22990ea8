// RUN: llm-opt %s --llm-cpu-vectorize-linear="rows=4" --split-input-file | FileCheck %s

// A packed linear over [B, T] rows and two panels of 32 columns: the rows
// collapse into one dim, the panels are an scf.forall, full tiles of 4 rows
// carry 4 vector<32xf32> accumulators through the k loop (one panel row
// read, 4 broadcast-FMAs per step), then the remaining rows one at a time,
// with k (16) split over 4 accumulator chains summed at the end.
#x = affine_map<(p, b, t, k, c) -> (b, t, k)>
#w = affine_map<(p, b, t, k, c) -> (p, k, c)>
#y = affine_map<(p, b, t, k, c) -> (b, t, p, c)>
// CHECK-LABEL: func.func @packed_linear
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x16xf32>, %[[W:.*]]: tensor<2x16x32xf32>, %[[INIT:.*]]: tensor<?x?x2x32xf32>)
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK: %[[X2:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1], [2]] : tensor<?x?x16xf32> into tensor<?x16xf32>
// CHECK: %[[Y2:.*]] = tensor.collapse_shape %[[INIT]] {{\[}}[0, 1], [2], [3]] : tensor<?x?x2x32xf32> into tensor<?x2x32xf32>
// CHECK: %[[M:.*]] = tensor.dim %[[X2]], %{{.*}} : tensor<?x16xf32>
// CHECK: %[[R:.*]] = scf.forall (%[[P:.*]]) in (2) shared_outs(%[[OUT:.*]] = %[[Y2]]) -> (tensor<?x2x32xf32>)
// CHECK: %[[SLICE:.*]] = tensor.extract_slice %[[OUT]][0, %[[P]], 0] [%[[M]], 1, 32] [1, 1, 1] : tensor<?x2x32xf32> to tensor<?x32xf32>
// CHECK: %[[DIV:.*]] = arith.divui %[[M]], %[[C4]]
// CHECK: %[[FULL:.*]] = arith.muli %[[DIV]], %[[C4]]
// CHECK: %[[TILES:.*]] = scf.for %[[ROW:.*]] = %{{.*}} to %[[FULL]] step %[[C4]] iter_args(%[[T:.*]] = %[[SLICE]])
// CHECK-COUNT-4: vector.transfer_read %[[T]]{{.*}} {in_bounds = [true]} : tensor<?x32xf32>, vector<32xf32>
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %[[C16]] step %{{.*}} iter_args(
// CHECK: vector.transfer_read %[[W]][%[[P]], %[[K]], %{{.*}}]{{.*}} {in_bounds = [true]} : tensor<2x16x32xf32>, vector<32xf32>
// The tile's first multiply-add is tagged: its weights' next panel is
// prefetched (llm-cpu-prefetch-panels); the other rows share that read.
// CHECK: tensor.extract %[[X2]]
// CHECK: vector.fma {{.*}} {llm_cpu.prefetch_next_panel} : vector<32xf32>
// CHECK-COUNT-3: tensor.extract %[[X2]]
// CHECK-NOT: tensor.extract
// CHECK-NOT: llm_cpu.prefetch_next_panel
// CHECK: scf.yield
// CHECK-COUNT-4: vector.transfer_write
// CHECK: scf.yield
// A single row reads each panel once: nothing to prefetch.
// CHECK: %[[REST:.*]] = scf.for %{{.*}} = %[[FULL]] to %[[M]] step %{{.*}} iter_args(%{{.*}} = %[[TILES]])
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[C16]] step %[[C4]] iter_args(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) -> (vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<32xf32>)
// CHECK-COUNT-4: vector.fma %{{[^{]*}} : vector<32xf32>
// CHECK-NOT: vector.fma
// CHECK: scf.yield
// CHECK-COUNT-3: arith.addf {{.*}} : vector<32xf32>
// CHECK: vector.transfer_write
// CHECK: scf.forall.in_parallel
// CHECK-NEXT: tensor.parallel_insert_slice %[[REST]] into %[[OUT]][0, %[[P]], 0] [%[[M]], 1, 32] [1, 1, 1]
// CHECK: tensor.expand_shape %[[R]] {{\[}}[0, 1], [2], [3]]
func.func @packed_linear(%x: tensor<?x?x16xf32>, %w: tensor<2x16x32xf32>, %init: tensor<?x?x2x32xf32>) -> tensor<?x?x2x32xf32> {
  %y = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]}
      ins(%x, %w : tensor<?x?x16xf32>, tensor<2x16x32xf32>) outs(%init : tensor<?x?x2x32xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %f = math.fma %a, %b, %c : f32
    linalg.yield %f : f32
  } -> tensor<?x?x2x32xf32>
  return %y : tensor<?x?x2x32xf32>
}

// -----

// A single vector (no leading dims) becomes one row.
#x = affine_map<(p, k, c) -> (k)>
#w = affine_map<(p, k, c) -> (p, k, c)>
#y = affine_map<(p, k, c) -> (p, c)>
// CHECK-LABEL: func.func @packed_gemv
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1]] output_shape [1, 8] : tensor<8xf32> into tensor<1x8xf32>
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2]] output_shape [1, 3, 16] : tensor<3x16xf32> into tensor<1x3x16xf32>
// CHECK: scf.forall (%{{.*}}) in (3)
// CHECK: vector<16xf32>
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0, 1], [2]] : tensor<1x3x16xf32> into tensor<3x16xf32>
func.func @packed_gemv(%x: tensor<8xf32>, %w: tensor<3x8x16xf32>, %init: tensor<3x16xf32>) -> tensor<3x16xf32> {
  %y = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %w : tensor<8xf32>, tensor<3x8x16xf32>) outs(%init : tensor<3x16xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %f = math.fma %a, %b, %c : f32
    linalg.yield %f : f32
  } -> tensor<3x16xf32>
  return %y : tensor<3x16xf32>
}

// -----

// Left alone: a panel wider than 64 columns (not one register row), and a
// body that is not an FMA of (x, w, acc).
#x = affine_map<(p, m, k, c) -> (m, k)>
#w = affine_map<(p, m, k, c) -> (p, k, c)>
#y = affine_map<(p, m, k, c) -> (m, p, c)>
// CHECK-LABEL: func.func @not_packed
// CHECK-NOT: scf.forall
// CHECK-NOT: vector.
// CHECK: linalg.generic
// CHECK: linalg.generic
// CHECK-NOT: vector.
func.func @not_packed(%x: tensor<4x8xf32>, %w: tensor<1x8x128xf32>, %init: tensor<4x1x128xf32>,
                      %w2: tensor<1x8x16xf32>, %init2: tensor<4x1x16xf32>) -> (tensor<4x1x128xf32>, tensor<4x1x16xf32>) {
  %y = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
      ins(%x, %w : tensor<4x8xf32>, tensor<1x8x128xf32>) outs(%init : tensor<4x1x128xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %f = math.fma %a, %b, %c : f32
    linalg.yield %f : f32
  } -> tensor<4x1x128xf32>
  %y2 = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
      ins(%x, %w2 : tensor<4x8xf32>, tensor<1x8x16xf32>) outs(%init2 : tensor<4x1x16xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %f = arith.mulf %a, %b : f32
    linalg.yield %f : f32
  } -> tensor<4x1x16xf32>
  return %y, %y2 : tensor<4x1x128xf32>, tensor<4x1x16xf32>
}


// -----

// A packed linear whose only reader is a SwiGLU's gated product (the two
// 16-column halves of each panel, tagged by llm-lower-to-linalg): the
// kernel starts its accumulators from zeros, and each row's 32 accumulators
// become silu(first 16) * (last 16), written into the product's 16-column
// slice of the panel; the linear's own output and the product's generic
// are gone.
#x = affine_map<(p, m, k, c) -> (m, k)>
#w = affine_map<(p, m, k, c) -> (p, k, c)>
#y = affine_map<(p, m, k, c) -> (m, p, c)>
#id = affine_map<(m, p, c) -> (m, p, c)>
// CHECK-LABEL: func.func @gated_silu
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>, %[[W:.*]]: tensor<2x8x32xf32>)
// CHECK: %[[H:.*]] = tensor.empty(%{{.*}}) : tensor<?x2x16xf32>
// CHECK: %[[R:.*]] = scf.forall (%[[P:.*]]) in (2) shared_outs(%[[OUT:.*]] = %[[H]]) -> (tensor<?x2x16xf32>)
// CHECK: tensor.extract_slice %[[OUT]][0, %[[P]], 0] [%{{.*}}, 1, 16] [1, 1, 1] : tensor<?x2x16xf32> to tensor<?x16xf32>
// CHECK: scf.for
// CHECK: scf.for
// CHECK-COUNT-4: vector.fma
// CHECK: scf.yield
// CHECK: %[[GATE:.*]] = vector.extract_strided_slice %{{.*}} {offsets = [0], sizes = [16], strides = [1]} : vector<32xf32> to vector<16xf32>
// CHECK: %[[UP:.*]] = vector.extract_strided_slice %{{.*}} {offsets = [16], sizes = [16], strides = [1]} : vector<32xf32> to vector<16xf32>
// CHECK: %[[NEG:.*]] = arith.negf %[[GATE]] : vector<16xf32>
// CHECK: %[[E:.*]] = math.exp %[[NEG]] : vector<16xf32>
// CHECK: %[[D:.*]] = arith.addf %{{.*}}, %[[E]] : vector<16xf32>
// CHECK: %[[S:.*]] = arith.divf %[[GATE]], %[[D]] : vector<16xf32>
// CHECK: %[[PROD:.*]] = arith.mulf %[[S]], %[[UP]] : vector<16xf32>
// CHECK: vector.transfer_write %[[PROD]], %{{.*}} {in_bounds = [true]} : vector<16xf32>, tensor<?x16xf32>
// CHECK: scf.forall.in_parallel
// CHECK-NOT: linalg.generic
// CHECK: return %[[R]]
func.func @gated_silu(%x: tensor<?x8xf32>, %w: tensor<2x8x32xf32>) -> tensor<?x2x16xf32> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %m = tensor.dim %x, %c0 : tensor<?x8xf32>
  %e = tensor.empty(%m) : tensor<?x2x32xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<?x2x32xf32>) -> tensor<?x2x32xf32>
  %y = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
      ins(%x, %w : tensor<?x8xf32>, tensor<2x8x32xf32>) outs(%init : tensor<?x2x32xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %f = math.fma %a, %b, %c : f32
    linalg.yield %f : f32
  } -> tensor<?x2x32xf32>
  %g = tensor.extract_slice %y[0, 0, 0] [%m, 2, 16] [1, 1, 1] : tensor<?x2x32xf32> to tensor<?x2x16xf32>
  %u = tensor.extract_slice %y[0, 0, 16] [%m, 2, 16] [1, 1, 1] : tensor<?x2x32xf32> to tensor<?x2x16xf32>
  %he = tensor.empty(%m) : tensor<?x2x16xf32>
  %h = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%g, %u : tensor<?x2x16xf32>, tensor<?x2x16xf32>) outs(%he : tensor<?x2x16xf32>) attrs = {llm_cpu.gated_silu} {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %one = arith.constant 1.0 : f32
    %n = arith.negf %a : f32
    %ex = math.exp %n : f32
    %d = arith.addf %ex, %one : f32
    %s = arith.divf %a, %d : f32
    %r = arith.mulf %s, %b : f32
    linalg.yield %r : f32
  } -> tensor<?x2x16xf32>
  return %h : tensor<?x2x16xf32>
}
