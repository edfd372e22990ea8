// RUN: llm-opt %s --llm-cpu-fuse-attention --split-input-file | FileCheck %s

// Grouped-query (4 query heads on 2 KV heads), causal with a sliding
// window of 3 and an additive [B, 1, 1, S] mask: one forall over (batch,
// pair of query heads sharing a KV head); query rows in an scf.for with
// both heads together and two passes over the visible keys
// [max(0, last - 2), min(S, last + 1)) (last = i + S - T): each key row is
// read once for both heads, their scores go into an [S] buffer each with
// the largest one; then each value row, read once, is weighted by both
// heads' exponentials of the stored scores.
// CHECK-LABEL: func.func @causal_gqa
// CHECK-SAME: (%[[Q:.*]]: tensor<?x4x?x16xf32>, %[[K:.*]]: tensor<?x2x?x16xf32>, %[[V:.*]]: tensor<?x2x?x16xf32>, %[[M:.*]]: tensor<?x1x1x?xf32>)
// CHECK-DAG: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 2.500000e-01 : f32
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK: %[[T:.*]] = tensor.dim %[[Q]], %[[C2]]
// CHECK: %[[S:.*]] = tensor.dim %[[K]], %[[C2]]
// CHECK: %[[OFFSET:.*]] = arith.subi %[[S]], %[[T]] : index
// CHECK: scf.forall (%[[B:.*]], %[[PAIR:.*]]) in (%{{.*}}, 2) shared_outs(%[[OUT:.*]] = %{{.*}})
// CHECK: %[[H0:.*]] = arith.muli %[[PAIR]], %[[C2]] : index
// CHECK: %[[KVH:.*]] = arith.divui %[[H0]], %[[C2]] : index
// CHECK: %[[H1:.*]] = arith.addi %[[H0]], %{{.*}} : index
// CHECK: %[[SC0:.*]] = tensor.empty(%[[S]]) : tensor<?xf32>
// CHECK: %[[SC1:.*]] = tensor.empty(%[[S]]) : tensor<?xf32>
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %[[T]] {{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %[[SC0]], %{{.*}} = %[[SC1]])
// CHECK: %[[Q0:.*]] = vector.transfer_read %[[Q]][%[[B]], %[[H0]], %[[I]], %{{.*}}]{{.*}} : tensor<?x4x?x16xf32>, vector<16xf32>
// CHECK: %[[Q1:.*]] = vector.transfer_read %[[Q]][%[[B]], %[[H1]], %[[I]], %{{.*}}]{{.*}} : tensor<?x4x?x16xf32>, vector<16xf32>
// CHECK: %[[LAST:.*]] = arith.addi %[[I]], %[[OFFSET]] : index
// CHECK: %[[END:.*]] = arith.minsi %[[S]], %{{.*}} : index
// CHECK: %[[FIRST:.*]] = arith.subi %[[LAST]], %[[C2]] : index
// CHECK: %[[LO:.*]] = arith.maxsi %{{.*}}, %[[FIRST]] : index
// CHECK: %[[HI:.*]] = arith.maxsi %[[END]], %[[LO]] : index
// CHECK: %[[MAX:.*]]:4 = scf.for %[[J:.*]] = %[[LO]] to %[[HI]] {{.*}} iter_args(%[[CUR0:.*]] = %[[NEGINF]], %[[CUR1:.*]] = %[[NEGINF]], %[[BUF0:.*]] = %{{.*}}, %[[BUF1:.*]] = %{{.*}}) -> (f32, f32, tensor<?xf32>, tensor<?xf32>)
// CHECK: %[[KROW:.*]] = vector.transfer_read %[[K]][%[[B]], %[[KVH]], %[[J]], %{{.*}}]
// CHECK: %[[PROD0:.*]] = arith.mulf %[[Q0]], %[[KROW]] : vector<16xf32>
// CHECK: %[[DOT0:.*]] = vector.reduction <add>, %[[PROD0]] fastmath<reassoc>
// CHECK: arith.mulf %[[DOT0]], %[[SCALE]]
// CHECK: tensor.extract %[[M]][%[[B]], %{{.*}}, %{{.*}}, %[[J]]]
// CHECK: %[[SC:.*]] = arith.addf
// CHECK: arith.maximumf %[[CUR0]], %[[SC]]
// CHECK: tensor.insert %[[SC]] into %[[BUF0]][%[[J]]]
// CHECK-NOT: vector.transfer_read
// CHECK: arith.mulf %[[Q1]], %[[KROW]] : vector<16xf32>
// CHECK: tensor.insert %{{.*}} into %[[BUF1]][%[[J]]]
// CHECK: %[[ALLHIDDEN:.*]] = arith.cmpf oeq, %[[MAX]]#0, %[[NEGINF]]
// CHECK: %[[SHIFT:.*]] = arith.select %[[ALLHIDDEN]], %{{.*}}, %[[MAX]]#0
// CHECK: %[[ACC:.*]]:4 = scf.for %[[J2:.*]] = %[[LO]] to %[[HI]] {{.*}} -> (f32, vector<16xf32>, f32, vector<16xf32>)
// CHECK: vector.transfer_read %[[V]][%[[B]], %[[KVH]], %[[J2]]
// CHECK-NOT: vector.reduction
// CHECK: %[[STORED:.*]] = tensor.extract %[[MAX]]#2[%[[J2]]]
// CHECK: arith.subf %[[STORED]], %[[SHIFT]]
// CHECK: math.exp
// CHECK: vector.fma
// CHECK-NOT: vector.transfer_read
// CHECK: tensor.extract %[[MAX]]#3[%[[J2]]]
// CHECK: arith.cmpf ogt, %[[ACC]]#0
// CHECK: vector.transfer_write
// CHECK: arith.cmpf ogt, %[[ACC]]#2
// CHECK: vector.transfer_write
// CHECK: tensor.parallel_insert_slice %{{.*}} into %[[OUT]][%[[B]], %[[H0]], 0, 0] [1, 2, %{{.*}}, 16]
// CHECK-NOT: llm.attention
func.func @causal_gqa(%q: tensor<?x4x?x16xf32>, %k: tensor<?x2x?x16xf32>, %v: tensor<?x2x?x16xf32>, %m: tensor<?x1x1x?xf32>) -> tensor<?x4x?x16xf32> {
  %o = llm.attention %q, %k, %v mask(%m) {causal, num_heads = 4 : i64, num_kv_heads = 2 : i64, sliding_window = 3 : i64}
      : (tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x1x1x?xf32>) -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// Not causal, no mask: every key is visible (the loops run over [0, S)).
// CHECK-LABEL: func.func @full
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK: scf.forall (%{{.*}}, %{{.*}}) in (1, 2)
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[C4]] step
// CHECK-NOT: arith.minsi
// CHECK: scf.for %{{.*}} = %[[LO:.*]] to %[[C8]] step
// CHECK-NOT: tensor.extract
// CHECK: scf.for %{{.*}} = %[[LO]] to %[[C8]] step
// CHECK-SAME: -> (f32, vector<32xf32>)
func.func @full(%q: tensor<1x2x4x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x32xf32>) -> tensor<1x2x4x32xf32> {
  %o = llm.attention %q, %k, %v {num_heads = 2 : i64, num_kv_heads = 2 : i64}
      : (tensor<1x2x4x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x32xf32>) -> tensor<1x2x4x32xf32>
  return %o : tensor<1x2x4x32xf32>
}

// -----

// Left for llm-lower-to-linalg: a past KV pair (its present results are
// concatenations), and bf16 operands.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: scf.forall
// CHECK: llm.attention
// CHECK: llm.attention
func.func @left_alone(%q: tensor<1x2x1x16xf32>, %k: tensor<1x2x1x16xf32>, %v: tensor<1x2x1x16xf32>,
                      %pk: tensor<1x2x3x16xf32>, %pv: tensor<1x2x3x16xf32>,
                      %qb: tensor<1x2x1x16xbf16>) -> (tensor<1x2x1x16xf32>, tensor<1x2x4x16xf32>, tensor<1x2x4x16xf32>, tensor<1x2x1x16xbf16>) {
  %o, %p:2 = llm.attention %q, %k, %v past(%pk, %pv) {causal, num_heads = 2 : i64, num_kv_heads = 2 : i64}
      : (tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x3x16xf32>, tensor<1x2x3x16xf32>)
      -> (tensor<1x2x1x16xf32>, tensor<1x2x4x16xf32>, tensor<1x2x4x16xf32>)
  %ob = llm.attention %qb, %qb, %qb {num_heads = 2 : i64, num_kv_heads = 2 : i64}
      : (tensor<1x2x1x16xbf16>, tensor<1x2x1x16xbf16>, tensor<1x2x1x16xbf16>) -> tensor<1x2x1x16xbf16>
  return %o, %p#0, %p#1, %ob : tensor<1x2x1x16xf32>, tensor<1x2x4x16xf32>, tensor<1x2x4x16xf32>, tensor<1x2x1x16xbf16>
}

// -----

// Blocks of 16 query rows vectorised across the rows (the mask is the same
// for every row): Q^T read once per block, 16 scores per key from D
// broadcast-FMAs, causal hiding per row lane, scores then exponentials in a
// [S, 16] buffer, values accumulated four rows at a time; the rows after
// the last full block go one at a time.
// CHECK-LABEL: func.func @blocks
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK: %[[T:.*]] = tensor.dim %{{.*}}, %c2 : tensor<1x2x?x16xf32>
// CHECK: scf.forall
// CHECK: %[[NB:.*]] = arith.divui %[[T]], %[[C16]]
// CHECK: %[[END:.*]] = arith.muli %[[NB]], %[[C16]]
// CHECK: %[[BUF:.*]] = tensor.empty(%{{.*}}) : tensor<?x16xf32>
// CHECK: %[[BLOCKS:.*]]:2 = scf.for %{{.*}} = %{{.*}} to %[[END]] step %[[C16]] iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %[[BUF]])
// CHECK: vector.transfer_read {{.*}} permutation_map = {{.*}} : tensor<1x2x?x16xf32>, vector<16x16xf32>
// CHECK: scf.for
// CHECK-COUNT-16: vector.fma {{.*}} : vector<16xf32>
// CHECK: arith.cmpi sgt, {{.*}} : vector<16xi64>
// CHECK: vector.transfer_write {{.*}} : vector<16xf32>, tensor<?x16xf32>
// CHECK: arith.maximumf {{.*}} : vector<16xf32>
// CHECK: scf.for
// CHECK: math.exp {{.*}} : vector<16xf32>
// CHECK-COUNT-4: -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: scf.for %{{.*}} = %[[END]] to %[[T]]
func.func @blocks(%q: tensor<1x2x?x16xf32>, %k: tensor<1x2x?x16xf32>, %v: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  %o = llm.attention %q, %k, %v {causal, num_heads = 2 : i64, num_kv_heads = 2 : i64}
      : (tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32>
  return %o : tensor<1x2x?x16xf32>
}

// -----

// A mask that differs per query row: rows one at a time only.
// CHECK-LABEL: func.func @per_row_mask
// CHECK-NOT: vector<16x16xf32>
// CHECK: scf.for %{{.*}} = %c0 to
func.func @per_row_mask(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %m: tensor<1x1x8x8xf32>) -> tensor<1x2x8x16xf32> {
  %o = llm.attention %q, %k, %v mask(%m) {num_heads = 2 : i64, num_kv_heads = 2 : i64}
      : (tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x1x8x8xf32>) -> tensor<1x2x8x16xf32>
  return %o : tensor<1x2x8x16xf32>
}

// -----

// Keys and values of an int4 KV cache (llm.kv_dequantize folded in): the
// codes are read as bytes, split into sign-extended nibbles against the
// query's even and odd elements, the key's scale multiplies its dot
// product once and the value's scale its probability; no f32 rows.
// CHECK-LABEL: func.func @int4_cache
// CHECK-NOT: llm.kv_dequantize
// CHECK: vector.deinterleave %{{.*}} : vector<16xf32> -> vector<8xf32>
// CHECK: scf.for
// CHECK: vector.transfer_read %{{.*}} : tensor<1x2x?x8xi8>, vector<8xi8>
// CHECK: arith.shli {{.*}} : vector<8xi8>
// CHECK: arith.shrsi {{.*}} : vector<8xi8>
// CHECK: arith.sitofp {{.*}} : vector<8xi8> to vector<8xf32>
// CHECK: tensor.extract %{{.*}} : tensor<1x2x?xf32>
// CHECK: vector.reduction <add>
// CHECK: scf.for {{.*}} -> (f32, vector<8xf32>, vector<8xf32>, f32, vector<8xf32>, vector<8xf32>)
// CHECK: vector.interleave %{{.*}}, %{{.*}} : vector<8xf32> -> vector<16xf32>
func.func @int4_cache(%q: tensor<1x4x1x16xf32>, %kc: tensor<1x2x?x8xi8>, %ks: tensor<1x2x?xf32>,
                      %vc: tensor<1x2x?x8xi8>, %vs: tensor<1x2x?xf32>) -> tensor<1x4x1x16xf32> {
  %k = llm.kv_dequantize %kc, %ks bits(4) : (tensor<1x2x?x8xi8>, tensor<1x2x?xf32>) -> tensor<1x2x?x16xf32>
  %v = llm.kv_dequantize %vc, %vs bits(4) : (tensor<1x2x?x8xi8>, tensor<1x2x?xf32>) -> tensor<1x2x?x16xf32>
  %o = llm.attention %q, %k, %v {causal, num_heads = 4 : i64, num_kv_heads = 2 : i64}
      : (tensor<1x4x1x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) -> tensor<1x4x1x16xf32>
  return %o : tensor<1x4x1x16xf32>
}

// -----

// Read back only through a [B, H, T, D] -> [B, T, H, D] transpose (and its
// sizes): the output is created as [B, T, H, D], each chunk of heads is
// the strided slice [T, heads, D], each row lands at (row, head), and the
// transpose is gone.
// CHECK-LABEL: func.func @written_transposed
// CHECK-NOT: linalg.transpose
// CHECK: %[[OUT:.*]] = tensor.empty(%{{.*}}, %{{.*}}) : tensor<?x?x4x16xf32>
// CHECK: %[[R:.*]] = scf.forall ({{.*}}) in ({{.*}}, 2) shared_outs(%[[S:.*]] = %[[OUT]]) -> (tensor<?x?x4x16xf32>)
// CHECK: tensor.extract_slice %[[S]][%{{.*}}, 0, %{{.*}}, 0] [1, %{{.*}}, 2, 16] [1, 1, 1, 1] : tensor<?x?x4x16xf32> to tensor<?x2x16xf32>
// CHECK: vector.transfer_write %{{.*}}, %{{.*}}[%[[ROW:.*]], %c0{{.*}}, %c0{{.*}}] {{.*}} : vector<16xf32>, tensor<?x2x16xf32>
// CHECK: tensor.parallel_insert_slice %{{.*}} into %[[S]][%{{.*}}, 0, %{{.*}}, 0] [1, %{{.*}}, 2, 16]
// CHECK: %[[T:.*]] = tensor.dim %[[R]], %c1
// CHECK-NOT: linalg.transpose
// CHECK: return %[[R]], %[[T]]
func.func @written_transposed(%q: tensor<?x4x?x16xf32>, %k: tensor<?x2x?x16xf32>, %v: tensor<?x2x?x16xf32>, %e: tensor<?x?x4x16xf32>) -> (tensor<?x?x4x16xf32>, index) {
  %c2 = arith.constant 2 : index
  %o = llm.attention %q, %k, %v {causal, num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>) -> tensor<?x4x?x16xf32>
  %t = tensor.dim %o, %c2 : tensor<?x4x?x16xf32>
  %r = linalg.transpose ins(%o : tensor<?x4x?x16xf32>) outs(%e : tensor<?x?x4x16xf32>) permutation = [0, 2, 1, 3]
  return %r, %t : tensor<?x?x4x16xf32>, index
}

// -----

// Another reader of the [B, H, T, D] output: written as usual, the
// transpose stays.
// CHECK-LABEL: func.func @transposed_and_read
// CHECK: scf.forall {{.*}} -> (tensor<?x4x?x16xf32>)
// CHECK: linalg.transpose
func.func @transposed_and_read(%q: tensor<?x4x?x16xf32>, %k: tensor<?x2x?x16xf32>, %v: tensor<?x2x?x16xf32>, %e: tensor<?x?x4x16xf32>) -> (tensor<?x?x4x16xf32>, tensor<?x4x?x16xf32>) {
  %o = llm.attention %q, %k, %v {causal, num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>) -> tensor<?x4x?x16xf32>
  %r = linalg.transpose ins(%o : tensor<?x4x?x16xf32>) outs(%e : tensor<?x?x4x16xf32>) permutation = [0, 2, 1, 3]
  return %r, %o : tensor<?x?x4x16xf32>, tensor<?x4x?x16xf32>
}
