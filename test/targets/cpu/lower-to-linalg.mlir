// RUN: llm-opt %s --llm-lower-to-linalg --split-input-file | FileCheck %s

// CHECK-DAG: #[[XMAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[WMAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// CHECK-DAG: #[[YMAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @linear
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>, %[[W:.*]]: tensor<5x4xf32>, %[[B:.*]]: tensor<5xf32>)
// The bias initialises the accumulator; the leading dims stay (no
// collapse into rows).
// CHECK: %[[INIT:.*]] = linalg.generic {{.*}} ins(%[[B]] : tensor<5xf32>) outs(%{{.*}} : tensor<2x3x5xf32>)
// CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#[[XMAP]], #[[WMAP]], #[[YMAP]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[X]], %[[W]] : tensor<2x3x4xf32>, tensor<5x4xf32>) outs(%[[INIT]] : tensor<2x3x5xf32>)
// CHECK: return %[[Y]]
// CHECK-NOT: llm.
func.func @linear(%x: tensor<2x3x4xf32>, %w: tensor<5x4xf32>, %b: tensor<5xf32>) -> tensor<2x3x5xf32> {
  %y = llm.linear %x, %w, %b : (tensor<2x3x4xf32>, tensor<5x4xf32>, tensor<5xf32>) -> tensor<2x3x5xf32>
  return %y : tensor<2x3x5xf32>
}

// -----

// Grouped-query heads read their KV head through floordiv; causal masking
// compares linalg.index positions with the offset T - S.
// CHECK-DAG: #[[KV:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d3, d4)>
// CHECK-LABEL: func.func @attention_gqa_causal
// CHECK: tensor.concat dim(2)
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[KV]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK: linalg.index 2
// CHECK: linalg.index 3
// CHECK: arith.cmpi sgt
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK-NOT: llm.attention
func.func @attention_gqa_causal(%q: tensor<1x4x2x8xf32>, %k: tensor<1x2x2x8xf32>, %v: tensor<1x2x2x8xf32>,
                                %pk: tensor<1x2x3x8xf32>, %pv: tensor<1x2x3x8xf32>)
    -> (tensor<1x4x2x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>) {
  %o, %p:2 = llm.attention %q, %k, %v past(%pk, %pv) {causal, num_heads = 4 : i64, num_kv_heads = 2 : i64}
      : (tensor<1x4x2x8xf32>, tensor<1x2x2x8xf32>, tensor<1x2x2x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>)
      -> (tensor<1x4x2x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>)
  return %o, %p#0, %p#1 : tensor<1x4x2x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>
}

// -----

// CHECK-LABEL: func.func @rms_norm
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK: math.rsqrt
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
func.func @rms_norm(%x: tensor<2x8xf32>, %w: tensor<8xf32>) -> tensor<2x8xf32> {
  %y = llm.rms_norm %x, %w {epsilon = 1.0e-6 : f32} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// Rows of a multiple of 16 features are summed in 16 lanes first (the lanes
// the innermost, parallel loop: vector adds instead of one latency-bound
// chain of scalar adds), then the lanes of each row are added up.
// CHECK-DAG: #[[X4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[LANES:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[ALL3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[ROW3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @rms_norm_lanes
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x64xf32>,
// CHECK: %[[LANED:.*]] = tensor.expand_shape %[[X]] {{\[}}[0], [1], [2, 3]] output_shape [%{{.*}}, %{{.*}}, 4, 16] : tensor<?x?x64xf32> into tensor<?x?x4x16xf32>
// CHECK: %[[ZEROS:.*]] = linalg.fill {{.*}} -> tensor<?x?x16xf32>
// CHECK: %[[PARTIAL:.*]] = linalg.generic {indexing_maps = [#[[X4]], #[[LANES]]], iterator_types = ["parallel", "parallel", "reduction", "parallel"]} ins(%[[LANED]] : tensor<?x?x4x16xf32>) outs(%[[ZEROS]] : tensor<?x?x16xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[ALL3]], #[[ROW3]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[PARTIAL]] : tensor<?x?x16xf32>) outs(%{{.*}} : tensor<?x?xf32>)
// CHECK: math.rsqrt
func.func @rms_norm_lanes(%x: tensor<?x?x64xf32>, %w: tensor<64xf32>) -> tensor<?x?x64xf32> {
  %y = llm.rms_norm %x, %w {epsilon = 1.0e-6 : f32} : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}

// -----

// LayerNorm's variance reads the row mean in the lanes' loop too.
// CHECK-DAG: #[[MEAN:.*]] = affine_map<(d0, d1, d2) -> (d0)>
// CHECK-LABEL: func.func @layer_norm_lanes
// CHECK: tensor.expand_shape {{.*}} into tensor<3x2x16xf32>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "parallel"]
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK: tensor.expand_shape {{.*}} into tensor<3x2x16xf32>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[MEAN]], #{{.*}}], iterator_types = ["parallel", "reduction", "parallel"]}
// CHECK: arith.subf
func.func @layer_norm_lanes(%x: tensor<3x32xf32>, %g: tensor<32xf32>, %b: tensor<32xf32>) -> tensor<3x32xf32> {
  %y = llm.layer_norm %x weight %g bias %b {epsilon = 1.0e-5 : f32} : (tensor<3x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<3x32xf32>
  return %y : tensor<3x32xf32>
}

// -----

// CHECK-LABEL: func.func @transfer
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT: return %[[X]]
func.func @transfer(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = llm.transfer %x : tensor<4xf32> from #llm.device<"cpu"> to #llm.device<"npu">
  return %y : tensor<4xf32>
}

// -----

// Top-2 by two rounds of arg-max; the first winner is hidden for round two.
// CHECK-LABEL: func.func @topk
// CHECK-COUNT-2: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%{{.*}} : tensor<4x8xf32>) outs(%{{.*}}, %{{.*}} : tensor<4xf32>, tensor<4xi64>)
// CHECK: tensor.insert_slice
// CHECK-NOT: llm.topk
func.func @topk(%p: tensor<4x8xf32>) -> (tensor<4x2xf32>, tensor<4x2xi64>) {
  %w, %i = llm.topk %p {k = 2 : i64} : tensor<4x8xf32> -> tensor<4x2xf32>, tensor<4x2xi64>
  return %w, %i : tensor<4x2xf32>, tensor<4x2xi64>
}

// -----

// Only the chosen experts run: per expert, a scan of the [T, k] choices
// collects its tokens and weights, their rows are gathered into a block of
// `count` rows, the expert's MLP runs on the block (its slice of the
// stacked weights), and a loop over the block adds the weighted rows back.
// CHECK-LABEL: func.func @moe
// CHECK-NOT: llm.moe
// CHECK: %[[SLOTS:.*]]:3 = scf.for {{.*}} -> (index, tensor<4xi64>, tensor<4xf32>)
// CHECK: scf.if
// CHECK: tensor.insert
// CHECK: %[[TOKENS:.*]] = tensor.extract_slice %[[SLOTS]]#1[0] [%[[SLOTS]]#0] [1] : tensor<4xi64> to tensor<?xi64>
// CHECK: %[[ROWS:.*]] = linalg.generic {{.*}} ins(%[[TOKENS]] : tensor<?xi64>) outs(%{{.*}} : tensor<?x8xf32>)
// CHECK: tensor.extract %arg0
// CHECK: tensor.extract_slice %arg3[0, 0, 0] [1, 16, 8] [1, 1, 1] : tensor<2x16x8xf32> to tensor<16x8xf32>
// CHECK: linalg.generic {{.*}} ins(%[[ROWS]], %{{.*}} : tensor<?x8xf32>, tensor<16x8xf32>) outs(%{{.*}} : tensor<?x16xf32>)
// CHECK: tensor.extract_slice %arg4[0, 0, 0] [1, 8, 16] [1, 1, 1] : tensor<2x8x16xf32> to tensor<8x16xf32>
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<?x8xf32>)
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[SLOTS]]#0 {{.*}} -> (tensor<4x8xf32>)
// CHECK: tensor.extract_slice %[[Y]]
// CHECK: math.fma
// CHECK: tensor.insert_slice
// The second expert's slices.
// CHECK: tensor.extract_slice %arg3[1, 0, 0]
// CHECK: tensor.extract_slice %arg4[1, 0, 0]
func.func @moe(%x: tensor<4x8xf32>, %l: tensor<4x2xf32>, %g: tensor<2x16x8xf32>, %u: tensor<2x16x8xf32>,
               %d: tensor<2x8x16xf32>) -> tensor<4x8xf32> {
  %y = llm.moe %x, %l gate(%g) up(%u) down(%d) {top_k = 1 : i64}
      : (tensor<4x8xf32>, tensor<4x2xf32>, tensor<2x16x8xf32>, tensor<2x16x8xf32>, tensor<2x8x16xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// A constant weight [N, K] is packed at compile time into panels
// [N / NR, K, NR], and the loops run (panel, rows, k, column): each panel
// is one contiguous stream, read a row of NR at a time. Here N = 3 fits no
// panel width (32, 16, 8): one panel of all 3 columns.
// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2, d3) -> (d1, d2)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>
// CHECK-DAG: #[[Y:.*]] = affine_map<(d0, d1, d2, d3) -> (d1, d0, d3)>
// CHECK-LABEL: func.func @linear_constant_weight
// CHECK: %[[WP:.*]] = arith.constant dense_resource<weight_packed> : tensor<1x2x3xf32>
// CHECK: %[[INIT:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2]] output_shape [4, 1, 3] : tensor<4x3xf32> into tensor<4x1x3xf32>
// CHECK: %[[Y4:.*]] = linalg.generic {indexing_maps = [#[[X]], #[[W]], #[[Y]]], iterator_types = ["parallel", "parallel", "reduction", "parallel"]} ins(%{{.*}}, %[[WP]] : tensor<4x2xf32>, tensor<1x2x3xf32>) outs(%[[INIT]] : tensor<4x1x3xf32>)
// CHECK: math.fma
// CHECK: tensor.collapse_shape %[[Y4]] {{\[}}[0], [1, 2]] : tensor<4x1x3xf32> into tensor<4x3xf32>
// CHECK: dialect_resources
// CHECK-NEXT: builtin
// 3x2 [[1,2],[3,4],[5,6]] packed as [1][2][3]: [[[1,3,5],[2,4,6]]].
// CHECK-NEXT: weight_packed: "0x040000000000803F000040400000A04000000040000080400000C040"
func.func @linear_constant_weight(%x: tensor<4x2xf32>) -> tensor<4x3xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>
  %y = llm.linear %x, %w : (tensor<4x2xf32>, tensor<3x2xf32>) -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// N = 64 splits into 2 panels of 32 columns; a bias initialises the
// panelled accumulator; dynamic rows stay dynamic.
// CHECK-LABEL: func.func @linear_two_panels
// CHECK: %[[WP:.*]] = arith.constant dense_resource<weight_packed> : tensor<2x1x32xf32>
// CHECK: %[[INIT:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0], [1], [2, 3]] output_shape [%{{.*}}, %{{.*}}, 2, 32] : tensor<?x?x64xf32> into tensor<?x?x2x32xf32>
// CHECK: %[[R:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]} ins(%{{.*}}, %[[WP]] : tensor<?x?x1xf32>, tensor<2x1x32xf32>) outs(%[[INIT]] : tensor<?x?x2x32xf32>)
// CHECK: tensor.collapse_shape %[[R]] {{\[}}[0], [1], [2, 3]] : tensor<?x?x2x32xf32> into tensor<?x?x64xf32>
func.func @linear_two_panels(%x: tensor<?x?x1xf32>, %b: tensor<64xf32>) -> tensor<?x?x64xf32> {
  %w = arith.constant dense<[[0.0], [1.0], [2.0], [3.0], [4.0], [5.0], [6.0], [7.0], [8.0], [9.0], [10.0], [11.0], [12.0], [13.0], [14.0], [15.0],
                             [16.0], [17.0], [18.0], [19.0], [20.0], [21.0], [22.0], [23.0], [24.0], [25.0], [26.0], [27.0], [28.0], [29.0], [30.0], [31.0],
                             [32.0], [33.0], [34.0], [35.0], [36.0], [37.0], [38.0], [39.0], [40.0], [41.0], [42.0], [43.0], [44.0], [45.0], [46.0], [47.0],
                             [48.0], [49.0], [50.0], [51.0], [52.0], [53.0], [54.0], [55.0], [56.0], [57.0], [58.0], [59.0], [60.0], [61.0], [62.0], [63.0]]> : tensor<64x1xf32>
  %y = llm.linear %x, %w, %b : (tensor<?x?x1xf32>, tensor<64x1xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}

// -----

// N = 70: no panel width divides it, so panels of 32 (3 of them, zero
// weights past column 70) accumulate into a [.., 96] output holding the
// bias, sliced back to 70 columns.
// CHECK-LABEL: func.func @linear_padded_panels
// CHECK: %[[WP:.*]] = arith.constant dense_resource<weight_packed> : tensor<3x2x32xf32>
// CHECK: %[[INIT:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[0, 0] [%{{.*}}, 70] [1, 1] : tensor<?x70xf32> into tensor<?x96xf32>
// CHECK: tensor.expand_shape %[[INIT]] {{\[}}[0], [1, 2]] output_shape [%{{.*}}, 3, 32] : tensor<?x96xf32> into tensor<?x3x32xf32>
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[WP]] : tensor<?x2xf32>, tensor<3x2x32xf32>)
// CHECK: %[[C:.*]] = tensor.collapse_shape %[[Y]] {{\[}}[0], [1, 2]] : tensor<?x3x32xf32> into tensor<?x96xf32>
// CHECK: tensor.extract_slice %[[C]][0, 0] [%{{.*}}, 70] [1, 1] : tensor<?x96xf32> to tensor<?x70xf32>
func.func @linear_padded_panels(%x: tensor<?x2xf32>, %b: tensor<70xf32>) -> tensor<?x70xf32> {
  %w = arith.constant dense<[[0.134,0.847],[0.764,0.255],[0.495,0.449],[0.652,0.789],[0.094,0.028],[0.836,0.433],[0.762,0.002],[0.445,0.722],[0.229,0.945],[0.901,0.031],[0.025,0.541],[0.939,0.381],[0.217,0.422],[0.029,0.222],[0.438,0.496],[0.233,0.231],[0.219,0.460],[0.290,0.021],[0.838,0.556],[0.642,0.186],[0.993,0.860],[0.121,0.333],[0.721,0.711],[0.936,0.422],[0.830,0.670],[0.303,0.588],[0.882,0.846],[0.505,0.589],[0.035,0.243],[0.797,0.414],[0.173,0.549],[0.703,0.674],[0.375,0.439],[0.508,0.778],[0.521,0.393],[0.490,0.030],[0.043,0.703],[0.983,0.593],[0.394,0.170],[0.502,0.982],[0.771,0.540],[0.860,0.232],[0.514,0.952],[0.578,0.459],[0.269,0.548],[0.957,0.006],[0.784,0.820],[0.886,0.741],[0.809,0.519],[0.561,0.426],[0.056,0.870],[0.570,0.200],[0.505,0.485],[0.357,0.346],[0.538,0.623],[0.612,0.458],[0.028,0.230],[0.177,0.584],[0.861,0.798],[0.797,0.816],[0.255,0.842],[0.673,0.083],[0.017,0.015],[0.756,0.250],[0.109,0.625],[0.344,0.070],[0.160,0.527],[0.168,0.273],[0.712,0.455],[0.322,0.474]]> : tensor<70x2xf32>
  %y = llm.linear %x, %w, %b : (tensor<?x2xf32>, tensor<70x2xf32>, tensor<70xf32>) -> tensor<?x70xf32>
  return %y : tensor<?x70xf32>
}

// -----

// RoPE reading a transpose that nothing else reads: x is read in the
// transpose's source layout ([B, T, H, D], through a permuted indexing map,
// and through permuted coordinates for the partner feature), and the
// transpose is gone.
// CHECK-DAG: #[[SRC:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d1, d3)>
// CHECK-LABEL: func.func @rope_through_transpose
// CHECK-SAME: (%[[X:.*]]: tensor<1x5x2x8xf32>
// CHECK-NOT: linalg.transpose
// CHECK: %[[E:.*]] = tensor.empty() : tensor<1x2x5x8xf32>
// CHECK: linalg.generic {indexing_maps = [#[[SRC]], #{{.*}}], {{.*}} ins(%[[X]] : tensor<1x5x2x8xf32>) outs(%[[E]] : tensor<1x2x5x8xf32>)
// CHECK: %[[H:.*]] = linalg.index 1
// CHECK: %[[T:.*]] = linalg.index 2
// CHECK: tensor.extract %[[X]][%{{.*}}, %[[T]], %[[H]], %{{.*}}] : tensor<1x5x2x8xf32>
// CHECK-NOT: linalg.transpose
func.func @rope_through_transpose(%x: tensor<1x5x2x8xf32>, %c: tensor<5x8xf32>, %s: tensor<5x8xf32>) -> tensor<1x2x5x8xf32> {
  %e = tensor.empty() : tensor<1x2x5x8xf32>
  %q = linalg.transpose ins(%x : tensor<1x5x2x8xf32>) outs(%e : tensor<1x2x5x8xf32>) permutation = [0, 2, 1, 3]
  %y = llm.rope %q, %c, %s : (tensor<1x2x5x8xf32>, tensor<5x8xf32>, tensor<5x8xf32>) -> tensor<1x2x5x8xf32>
  return %y : tensor<1x2x5x8xf32>
}

// -----

// Sizes of a folded transpose (dynamic here) are read from its init.
// CHECK-LABEL: func.func @rope_transpose_sizes
// CHECK-SAME: (%[[X:[^:]*]]: tensor<1x?x2x8xf32>, %{{[^:]*}}: tensor<?x8xf32>, %{{[^:]*}}: tensor<?x8xf32>, %[[E:[^:]*]]: tensor<1x2x?x8xf32>)
// CHECK-NOT: linalg.transpose
// CHECK: %[[T:.*]] = tensor.dim %[[E]], %c2
// CHECK: linalg.generic {{.*}} ins(%[[X]] : tensor<1x?x2x8xf32>)
// CHECK: return %{{.*}}, %[[T]]
func.func @rope_transpose_sizes(%x: tensor<1x?x2x8xf32>, %c: tensor<?x8xf32>, %s: tensor<?x8xf32>, %e: tensor<1x2x?x8xf32>) -> (tensor<1x2x?x8xf32>, index) {
  %c2 = arith.constant 2 : index
  %q = linalg.transpose ins(%x : tensor<1x?x2x8xf32>) outs(%e : tensor<1x2x?x8xf32>) permutation = [0, 2, 1, 3]
  %t = tensor.dim %q, %c2 : tensor<1x2x?x8xf32>
  %y = llm.rope %q, %c, %s : (tensor<1x2x?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<1x2x?x8xf32>
  return %y, %t : tensor<1x2x?x8xf32>, index
}

// -----

// A transpose read by something else as well stays, and RoPE reads it.
// CHECK-LABEL: func.func @rope_shared_transpose
// CHECK: %[[Q:.*]] = linalg.transpose
// CHECK: linalg.generic {{.*}} ins(%[[Q]] : tensor<1x2x5x8xf32>)
// CHECK: tensor.extract %[[Q]]
func.func @rope_shared_transpose(%x: tensor<1x5x2x8xf32>, %c: tensor<5x8xf32>, %s: tensor<5x8xf32>) -> (tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>) {
  %e = tensor.empty() : tensor<1x2x5x8xf32>
  %q = linalg.transpose ins(%x : tensor<1x5x2x8xf32>) outs(%e : tensor<1x2x5x8xf32>) permutation = [0, 2, 1, 3]
  %y = llm.rope %q, %c, %s : (tensor<1x2x5x8xf32>, tensor<5x8xf32>, tensor<5x8xf32>) -> tensor<1x2x5x8xf32>
  return %y, %q : tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>
}

// -----

// A linear layer whose only reader adds a residual to it (either side):
// the packed contraction starts from the residual (expanded into panels)
// instead of zeros, and the add is gone.
// CHECK-LABEL: func.func @linear_plus_residual
// CHECK-SAME: (%[[X:[^:]*]]: tensor<3x2xf32>, %[[R:[^:]*]]: tensor<3x32xf32>)
// CHECK-NOT: linalg.fill
// CHECK: %[[INIT:.*]] = tensor.expand_shape %[[R]] {{\[}}[0], [1, 2]] output_shape [3, 1, 32]
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} outs(%[[INIT]] : tensor<3x1x32xf32>)
// CHECK-NOT: arith.addf {{.*}} : tensor
// CHECK: %[[C:.*]] = tensor.collapse_shape %[[Y]]
// CHECK: return %[[C]]
func.func @linear_plus_residual(%x: tensor<3x2xf32>, %r: tensor<3x32xf32>) -> tensor<3x32xf32> {
  %w = arith.constant dense<[[0.0, 0.5], [1.0, 1.5], [2.0, 2.5], [3.0, 3.5], [4.0, 4.5], [5.0, 5.5], [6.0, 6.5], [7.0, 7.5], [8.0, 8.5], [9.0, 9.5], [10.0, 10.5], [11.0, 11.5], [12.0, 12.5], [13.0, 13.5], [14.0, 14.5], [15.0, 15.5], [16.0, 16.5], [17.0, 17.5], [18.0, 18.5], [19.0, 19.5], [20.0, 20.5], [21.0, 21.5], [22.0, 22.5], [23.0, 23.5], [24.0, 24.5], [25.0, 25.5], [26.0, 26.5], [27.0, 27.5], [28.0, 28.5], [29.0, 29.5], [30.0, 30.5], [31.0, 31.5]]> : tensor<32x2xf32>
  %l = llm.linear %x, %w : (tensor<3x2xf32>, tensor<32x2xf32>) -> tensor<3x32xf32>
  %y = arith.addf %r, %l : tensor<3x32xf32>
  return %y : tensor<3x32xf32>
}

// -----

// No fold: the linear result has another reader, the residual is computed
// after the linear layer, or the layer has a bias (its accumulator starts
// from the bias).
// CHECK-LABEL: func.func @linear_plus_residual_kept
// CHECK-COUNT-3: arith.addf {{.*}} : tensor<3x32xf32>
func.func @linear_plus_residual_kept(%x: tensor<3x2xf32>, %r: tensor<3x32xf32>, %b: tensor<32xf32>) -> (tensor<3x32xf32>, tensor<3x32xf32>, tensor<3x32xf32>, tensor<3x32xf32>) {
  %w = arith.constant dense<[[0.0, 0.5], [1.0, 1.5], [2.0, 2.5], [3.0, 3.5], [4.0, 4.5], [5.0, 5.5], [6.0, 6.5], [7.0, 7.5], [8.0, 8.5], [9.0, 9.5], [10.0, 10.5], [11.0, 11.5], [12.0, 12.5], [13.0, 13.5], [14.0, 14.5], [15.0, 15.5], [16.0, 16.5], [17.0, 17.5], [18.0, 18.5], [19.0, 19.5], [20.0, 20.5], [21.0, 21.5], [22.0, 22.5], [23.0, 23.5], [24.0, 24.5], [25.0, 25.5], [26.0, 26.5], [27.0, 27.5], [28.0, 28.5], [29.0, 29.5], [30.0, 30.5], [31.0, 31.5]]> : tensor<32x2xf32>
  %l = llm.linear %x, %w : (tensor<3x2xf32>, tensor<32x2xf32>) -> tensor<3x32xf32>
  %y = arith.addf %l, %r : tensor<3x32xf32>
  %l2 = llm.linear %x, %w : (tensor<3x2xf32>, tensor<32x2xf32>) -> tensor<3x32xf32>
  %later = math.exp %r : tensor<3x32xf32>
  %y2 = arith.addf %l2, %later : tensor<3x32xf32>
  %l3 = llm.linear %x, %w, %b : (tensor<3x2xf32>, tensor<32x2xf32>, tensor<32xf32>) -> tensor<3x32xf32>
  %y3 = arith.addf %l3, %r : tensor<3x32xf32>
  return %y, %l, %y2, %y3 : tensor<3x32xf32>, tensor<3x32xf32>, tensor<3x32xf32>, tensor<3x32xf32>
}

// -----

// A SwiGLU's gate and up projections, fused into one linear of [2F, K]
// (F = 32) and read as two halves: the weight is packed into panels of 16
// gate columns then the same 16 up columns (W[n, 0] = n: panel 0 holds
// 0..15 then 32..47), one packed linear computes y [M, F/16, 32] in that
// order, and a tagged generic computes silu(gate) * up from each panel's two
// halves into [M, F/16, 16], collapsed to [M, F].
// CHECK-LABEL: func.func @gated_silu
// CHECK-SAME: (%[[X:.*]]: tensor<?x1xf32>)
// CHECK: %[[W:.*]] = arith.constant dense_resource<weight_gated> : tensor<2x1x32xf32>
// CHECK: %[[ZEROS:.*]] = linalg.fill {{.*}} -> tensor<?x2x32xf32>
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} ins(%[[X]], %[[W]] : tensor<?x1xf32>, tensor<2x1x32xf32>) outs(%[[ZEROS]] : tensor<?x2x32xf32>)
// CHECK: math.fma
// CHECK: %[[GATE:.*]] = tensor.extract_slice %[[Y]][0, 0, 0] [%{{.*}}, 2, 16] [1, 1, 1] : tensor<?x2x32xf32> to tensor<?x2x16xf32>
// CHECK: %[[UP:.*]] = tensor.extract_slice %[[Y]][0, 0, 16] [%{{.*}}, 2, 16] [1, 1, 1] : tensor<?x2x32xf32> to tensor<?x2x16xf32>
// CHECK: %[[H:.*]] = linalg.generic {{.*}} ins(%[[GATE]], %[[UP]] : tensor<?x2x16xf32>, tensor<?x2x16xf32>) {{.*}} attrs =  {llm_cpu.gated_silu}
// CHECK: %[[E:.*]] = math.exp
// CHECK: %[[D:.*]] = arith.addf %[[E]]
// CHECK: %[[S:.*]] = arith.divf %{{.*}}, %[[D]]
// CHECK: arith.mulf %[[S]]
// CHECK: %[[OUT:.*]] = tensor.collapse_shape %[[H]] {{\[}}[0], [1, 2]] : tensor<?x2x16xf32> into tensor<?x32xf32>
// CHECK: return %[[OUT]]
// CHECK: weight_gated: "0x04000000000000000000803F0000004000004040000080400000A0400000C0400000E040000000410000104100002041000030410000404100005041000060410000704100000042
func.func @gated_silu(%x: tensor<?x1xf32>) -> tensor<?x32xf32> {
  %c0 = arith.constant 0 : index
  %w = arith.constant dense<[[0.0], [1.0], [2.0], [3.0], [4.0], [5.0], [6.0], [7.0], [8.0], [9.0], [10.0], [11.0], [12.0], [13.0], [14.0], [15.0], [16.0], [17.0], [18.0], [19.0], [20.0], [21.0], [22.0], [23.0], [24.0], [25.0], [26.0], [27.0], [28.0], [29.0], [30.0], [31.0], [32.0], [33.0], [34.0], [35.0], [36.0], [37.0], [38.0], [39.0], [40.0], [41.0], [42.0], [43.0], [44.0], [45.0], [46.0], [47.0], [48.0], [49.0], [50.0], [51.0], [52.0], [53.0], [54.0], [55.0], [56.0], [57.0], [58.0], [59.0], [60.0], [61.0], [62.0], [63.0]]> : tensor<64x1xf32>
  %y = llm.linear %x, %w : (tensor<?x1xf32>, tensor<64x1xf32>) -> tensor<?x64xf32>
  %m = tensor.dim %y, %c0 : tensor<?x64xf32>
  %g = tensor.extract_slice %y[0, 0] [%m, 32] [1, 1] : tensor<?x64xf32> to tensor<?x32xf32>
  %u = tensor.extract_slice %y[0, 32] [%m, 32] [1, 1] : tensor<?x64xf32> to tensor<?x32xf32>
  %s = llm.silu %g : tensor<?x32xf32>
  %h = arith.mulf %s, %u : tensor<?x32xf32>
  return %h : tensor<?x32xf32>
}

// -----

// The up half is also read elsewhere: it must be written, so the layer is
// an ordinary linear (panels in column order) and SiLU and product stay.
// CHECK-LABEL: func.func @gated_silu_up_escapes
// CHECK-NOT: llm_cpu.gated_silu
// CHECK: dense_resource<weight_packed> : tensor<2x2x32xf32>
// CHECK-NOT: llm_cpu.gated_silu
// CHECK: return
func.func @gated_silu_up_escapes(%x: tensor<4x2xf32>) -> (tensor<4x32xf32>, tensor<4x32xf32>) {
  %w = arith.constant dense<[[0.0, 1.0], [1.0, 1.0], [2.0, 1.0], [3.0, 1.0], [4.0, 1.0], [5.0, 1.0], [6.0, 1.0], [7.0, 1.0], [8.0, 1.0], [9.0, 1.0], [10.0, 1.0], [11.0, 1.0], [12.0, 1.0], [13.0, 1.0], [14.0, 1.0], [15.0, 1.0], [16.0, 1.0], [17.0, 1.0], [18.0, 1.0], [19.0, 1.0], [20.0, 1.0], [21.0, 1.0], [22.0, 1.0], [23.0, 1.0], [24.0, 1.0], [25.0, 1.0], [26.0, 1.0], [27.0, 1.0], [28.0, 1.0], [29.0, 1.0], [30.0, 1.0], [31.0, 1.0], [32.0, 1.0], [33.0, 1.0], [34.0, 1.0], [35.0, 1.0], [36.0, 1.0], [37.0, 1.0], [38.0, 1.0], [39.0, 1.0], [40.0, 1.0], [41.0, 1.0], [42.0, 1.0], [43.0, 1.0], [44.0, 1.0], [45.0, 1.0], [46.0, 1.0], [47.0, 1.0], [48.0, 1.0], [49.0, 1.0], [50.0, 1.0], [51.0, 1.0], [52.0, 1.0], [53.0, 1.0], [54.0, 1.0], [55.0, 1.0], [56.0, 1.0], [57.0, 1.0], [58.0, 1.0], [59.0, 1.0], [60.0, 1.0], [61.0, 1.0], [62.0, 1.0], [63.0, 1.0]]> : tensor<64x2xf32>
  %y = llm.linear %x, %w : (tensor<4x2xf32>, tensor<64x2xf32>) -> tensor<4x64xf32>
  %g = tensor.extract_slice %y[0, 0] [4, 32] [1, 1] : tensor<4x64xf32> to tensor<4x32xf32>
  %u = tensor.extract_slice %y[0, 32] [4, 32] [1, 1] : tensor<4x64xf32> to tensor<4x32xf32>
  %s = llm.silu %g : tensor<4x32xf32>
  %h = arith.mulf %s, %u : tensor<4x32xf32>
  return %h, %u : tensor<4x32xf32>, tensor<4x32xf32>
}
