// RUN: llm-opt %s --llm-raise --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @linear_with_bias
// CHECK-SAME: (%[[X:.*]]: tensor<2x4xf32>)
// CHECK-DAG: %[[WT:.*]] = arith.constant dense_resource<weight_t> : tensor<3x4xf32>
// CHECK-DAG: %[[B:.*]] = arith.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]>
// CHECK: llm.linear %[[X]], %[[WT]], %[[B]] : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// The weight is transposed at compile time: row 0 is 1, 4, 7, 10.
// CHECK: weight_t: "0x040000000000803F000080400000E04000002041
func.func @linear_with_bias(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0], [10.0, 11.0, 12.0]]> : tensor<4x3xf32>
  %b = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %y = llm.matmul %x, %w : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  %e = tensor.empty() : tensor<2x3xf32>
  %bb = linalg.broadcast ins(%b : tensor<3xf32>) outs(%e : tensor<2x3xf32>) dimensions = [0]
  %z = arith.addf %bb, %y : tensor<2x3xf32>
  return %z : tensor<2x3xf32>
}

// -----

// A product of two activations is not a linear layer.
// CHECK-LABEL: func.func @matmul_of_activations
// CHECK: llm.matmul
func.func @matmul_of_activations(%x: tensor<2x4xf32>, %w: tensor<4x3xf32>) -> tensor<2x3xf32> {
  %y = llm.matmul %x, %w : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @rms_norm
// CHECK-SAME: (%[[X:.*]]: tensor<2x8xf32>, %[[W:.*]]: tensor<8xf32>)
// CHECK: %[[N:.*]] = llm.rms_norm %[[X]], %[[W]] {epsilon = 9.99999997E-7 : f32}
// CHECK: return %[[N]]
func.func @rms_norm(%x: tensor<2x8xf32>, %w: tensor<8xf32>) -> tensor<2x8xf32> {
  %two = arith.constant dense<2.0> : tensor<2x8xf32>
  %sq = math.powf %x, %two : tensor<2x8xf32>
  %zero = arith.constant dense<0.0> : tensor<2xf32>
  %sum = linalg.reduce ins(%sq : tensor<2x8xf32>) outs(%zero : tensor<2xf32>) dimensions = [1]
    (%in: f32, %acc: f32) {
      %s = arith.addf %in, %acc : f32
      linalg.yield %s : f32
    }
  %n = arith.constant dense<8.0> : tensor<2xf32>
  %mean = arith.divf %sum, %n : tensor<2xf32>
  %eps = arith.constant dense<1.0e-6> : tensor<2xf32>
  %t = arith.addf %mean, %eps : tensor<2xf32>
  %r = math.sqrt %t : tensor<2xf32>
  %one = arith.constant dense<1.0> : tensor<2xf32>
  %inv = arith.divf %one, %r : tensor<2xf32>
  %e = tensor.empty() : tensor<2x8xf32>
  %invb = linalg.broadcast ins(%inv : tensor<2xf32>) outs(%e : tensor<2x8xf32>) dimensions = [1]
  %xn = arith.mulf %x, %invb : tensor<2x8xf32>
  %wb = linalg.broadcast ins(%w : tensor<8xf32>) outs(%e : tensor<2x8xf32>) dimensions = [0]
  %y = arith.mulf %wb, %xn : tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// Mean over the wrong count (a sum, not a mean): not RMSNorm.
// CHECK-LABEL: func.func @not_rms_norm
// CHECK-NOT: llm.rms_norm
func.func @not_rms_norm(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %two = arith.constant dense<2.0> : tensor<2x8xf32>
  %sq = math.powf %x, %two : tensor<2x8xf32>
  %zero = arith.constant dense<0.0> : tensor<2xf32>
  %sum = linalg.reduce ins(%sq : tensor<2x8xf32>) outs(%zero : tensor<2xf32>) dimensions = [1]
    (%in: f32, %acc: f32) {
      %s = arith.addf %in, %acc : f32
      linalg.yield %s : f32
    }
  %n = arith.constant dense<7.0> : tensor<2xf32>
  %mean = arith.divf %sum, %n : tensor<2xf32>
  %r = math.sqrt %mean : tensor<2xf32>
  %one = arith.constant dense<1.0> : tensor<2xf32>
  %inv = arith.divf %one, %r : tensor<2xf32>
  %e = tensor.empty() : tensor<2x8xf32>
  %invb = linalg.broadcast ins(%inv : tensor<2xf32>) outs(%e : tensor<2x8xf32>) dimensions = [1]
  %xn = arith.mulf %x, %invb : tensor<2x8xf32>
  return %xn : tensor<2x8xf32>
}

// -----

// CHECK-LABEL: func.func @silu
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK: %[[S:.*]] = llm.silu %[[X]] : tensor<4xf32>
// CHECK: return %[[S]]
func.func @silu(%x: tensor<4xf32>) -> tensor<4xf32> {
  %n = arith.negf %x : tensor<4xf32>
  %e = math.exp %n : tensor<4xf32>
  %one = arith.constant dense<1.0> : tensor<4xf32>
  %d = arith.addf %one, %e : tensor<4xf32>
  %s = arith.divf %one, %d : tensor<4xf32>
  %y = arith.mulf %x, %s : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// x * sigmoid(y) with y != x is a gate, not SiLU.
// CHECK-LABEL: func.func @sigmoid_gate
// CHECK-NOT: llm.silu
func.func @sigmoid_gate(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  %n = arith.negf %y : tensor<4xf32>
  %e = math.exp %n : tensor<4xf32>
  %one = arith.constant dense<1.0> : tensor<4xf32>
  %d = arith.addf %one, %e : tensor<4xf32>
  %s = arith.divf %one, %d : tensor<4xf32>
  %r = arith.mulf %x, %s : tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @gelu_erf
// CHECK: llm.gelu %arg0 : tensor<4xf32>
func.func @gelu_erf(%x: tensor<4xf32>) -> tensor<4xf32> {
  %c = arith.constant dense<1.41421354> : tensor<4xf32>
  %d = arith.divf %x, %c : tensor<4xf32>
  %e = math.erf %d : tensor<4xf32>
  %one = arith.constant dense<1.0> : tensor<4xf32>
  %a = arith.addf %e, %one : tensor<4xf32>
  %m = arith.mulf %x, %a : tensor<4xf32>
  %half = arith.constant dense<0.5> : tensor<4xf32>
  %y = arith.mulf %m, %half : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @gelu_tanh
// CHECK: llm.gelu %arg0 approximate = tanh : tensor<4xf32>
func.func @gelu_tanh(%x: tensor<4xf32>) -> tensor<4xf32> {
  %three = arith.constant dense<3.0> : tensor<4xf32>
  %cube = math.powf %x, %three : tensor<4xf32>
  %k = arith.constant dense<0.044715> : tensor<4xf32>
  %kc = arith.mulf %k, %cube : tensor<4xf32>
  %inner = arith.addf %x, %kc : tensor<4xf32>
  %s = arith.constant dense<0.797884583> : tensor<4xf32>
  %si = arith.mulf %s, %inner : tensor<4xf32>
  %t = math.tanh %si : tensor<4xf32>
  %one = arith.constant dense<1.0> : tensor<4xf32>
  %a = arith.addf %one, %t : tensor<4xf32>
  %half = arith.constant dense<0.5> : tensor<4xf32>
  %hx = arith.mulf %half, %x : tensor<4xf32>
  %y = arith.mulf %hx, %a : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @rope
// CHECK-SAME: (%[[X:.*]]: tensor<1x2x3x4xf32>, %[[COS:.*]]: tensor<3x4xf32>, %[[SIN:.*]]: tensor<3x4xf32>)
// CHECK: %[[R:.*]] = llm.rope %[[X]], %[[COS]], %[[SIN]]
// CHECK: return %[[R]]
func.func @rope(%x: tensor<1x2x3x4xf32>, %cos: tensor<3x4xf32>, %sin: tensor<3x4xf32>) -> tensor<1x2x3x4xf32> {
  %e = tensor.empty() : tensor<1x2x3x4xf32>
  %cb = linalg.broadcast ins(%cos : tensor<3x4xf32>) outs(%e : tensor<1x2x3x4xf32>) dimensions = [0, 1]
  %sb = linalg.broadcast ins(%sin : tensor<3x4xf32>) outs(%e : tensor<1x2x3x4xf32>) dimensions = [0, 1]
  %xc = arith.mulf %x, %cb : tensor<1x2x3x4xf32>
  %lo = tensor.extract_slice %x[0, 0, 0, 0] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %hi = tensor.extract_slice %x[0, 0, 0, 2] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %nh = arith.negf %hi : tensor<1x2x3x2xf32>
  %rot = tensor.concat dim(3) %nh, %lo : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x4xf32>
  %rs = arith.mulf %rot, %sb : tensor<1x2x3x4xf32>
  %y = arith.addf %xc, %rs : tensor<1x2x3x4xf32>
  return %y : tensor<1x2x3x4xf32>
}

// -----

// The halves swapped (concat(x1, -x2)) rotate the other way: not RoPE.
// CHECK-LABEL: func.func @not_rope
// CHECK-NOT: llm.rope
func.func @not_rope(%x: tensor<1x2x3x4xf32>, %cos: tensor<1x2x3x4xf32>, %sin: tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32> {
  %xc = arith.mulf %x, %cos : tensor<1x2x3x4xf32>
  %lo = tensor.extract_slice %x[0, 0, 0, 0] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %hi = tensor.extract_slice %x[0, 0, 0, 2] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %nlo = arith.negf %lo : tensor<1x2x3x2xf32>
  %rot = tensor.concat dim(3) %nlo, %hi : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x4xf32>
  %rs = arith.mulf %rot, %sin : tensor<1x2x3x4xf32>
  %y = arith.addf %xc, %rs : tensor<1x2x3x4xf32>
  return %y : tensor<1x2x3x4xf32>
}

// -----

// GQA: K/V heads repeated twice (repeat_kv) with a causal where-mask.
// CHECK-LABEL: func.func @attention_gqa
// CHECK-SAME: (%[[Q:.*]]: tensor<1x4x3x8xf32>, %[[K:.*]]: tensor<1x2x3x8xf32>, %[[V:.*]]: tensor<1x2x3x8xf32>)
// CHECK: %[[O:.*]] = llm.attention %[[Q]], %[[K]], %[[V]] {causal, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 5.000000e-01 : f32}
// CHECK: return %[[O]]
func.func @attention_gqa(%q: tensor<1x4x3x8xf32>, %k: tensor<1x2x3x8xf32>, %v: tensor<1x2x3x8xf32>) -> tensor<1x4x3x8xf32> {
  %e5 = tensor.empty() : tensor<1x2x2x3x8xf32>
  %kb = linalg.broadcast ins(%k : tensor<1x2x3x8xf32>) outs(%e5 : tensor<1x2x2x3x8xf32>) dimensions = [2]
  %kr = tensor.collapse_shape %kb [[0], [1, 2], [3], [4]] : tensor<1x2x2x3x8xf32> into tensor<1x4x3x8xf32>
  %vb = linalg.broadcast ins(%v : tensor<1x2x3x8xf32>) outs(%e5 : tensor<1x2x2x3x8xf32>) dimensions = [2]
  %vr = tensor.collapse_shape %vb [[0], [1, 2], [3], [4]] : tensor<1x2x2x3x8xf32> into tensor<1x4x3x8xf32>
  %et = tensor.empty() : tensor<1x4x8x3xf32>
  %kt = linalg.transpose ins(%kr : tensor<1x4x3x8xf32>) outs(%et : tensor<1x4x8x3xf32>) permutation = [0, 1, 3, 2]
  %s = llm.matmul %q, %kt : (tensor<1x4x3x8xf32>, tensor<1x4x8x3xf32>) -> tensor<1x4x3x3xf32>
  %c = arith.constant dense<2.0> : tensor<1x4x3x3xf32>
  %ss = arith.divf %s, %c : tensor<1x4x3x3xf32>
  %cond = arith.constant dense<[[true, false, false], [true, true, false], [true, true, true]]> : tensor<3x3xi1>
  %eb = tensor.empty() : tensor<1x4x3x3xi1>
  %condb = linalg.broadcast ins(%cond : tensor<3x3xi1>) outs(%eb : tensor<1x4x3x3xi1>) dimensions = [0, 1]
  %neg = arith.constant dense<-3.40282347E+38> : tensor<1x4x3x3xf32>
  %m = arith.select %condb, %ss, %neg : tensor<1x4x3x3xi1>, tensor<1x4x3x3xf32>
  %p = llm.softmax %m : tensor<1x4x3x3xf32>
  %o = llm.matmul %p, %vr : (tensor<1x4x3x3xf32>, tensor<1x4x3x8xf32>) -> tensor<1x4x3x8xf32>
  return %o : tensor<1x4x3x8xf32>
}

// -----

// A padding-style condition becomes an additive mask; a KV-cache concat
// becomes past/present.
// CHECK-LABEL: func.func @attention_mask_and_cache
// CHECK-SAME: (%[[Q:.*]]: tensor<1x2x1x4xf32>, %[[K:.*]]: tensor<1x2x1x4xf32>, %[[PK:.*]]: tensor<1x2x2x4xf32>)
// CHECK: %[[MASK:.*]] = arith.constant dense<{{\[\[}}-3.40282347E+38, 0.000000e+00, 0.000000e+00]]> : tensor<1x3xf32>
// CHECK: %[[O:.*]], %[[P:.*]]:2 = llm.attention %[[Q]], %[[K]], %[[K]] mask(%[[MASK]]) past(%[[PK]], %[[PK]]) {num_heads = 2 : i64, num_kv_heads = 2 : i64}
// CHECK: return %[[O]], %[[P]]#0
func.func @attention_mask_and_cache(%q: tensor<1x2x1x4xf32>, %k: tensor<1x2x1x4xf32>, %pk: tensor<1x2x2x4xf32>)
    -> (tensor<1x2x1x4xf32>, tensor<1x2x3x4xf32>) {
  %kc = tensor.concat dim(2) %pk, %k : (tensor<1x2x2x4xf32>, tensor<1x2x1x4xf32>) -> tensor<1x2x3x4xf32>
  %vc = tensor.concat dim(2) %pk, %k : (tensor<1x2x2x4xf32>, tensor<1x2x1x4xf32>) -> tensor<1x2x3x4xf32>
  %et = tensor.empty() : tensor<1x2x4x3xf32>
  %kt = linalg.transpose ins(%kc : tensor<1x2x3x4xf32>) outs(%et : tensor<1x2x4x3xf32>) permutation = [0, 1, 3, 2]
  %s = llm.matmul %q, %kt : (tensor<1x2x1x4xf32>, tensor<1x2x4x3xf32>) -> tensor<1x2x1x3xf32>
  %cond = arith.constant dense<[[false, true, true]]> : tensor<1x3xi1>
  %eb = tensor.empty() : tensor<1x2x1x3xi1>
  %condb = linalg.broadcast ins(%cond : tensor<1x3xi1>) outs(%eb : tensor<1x2x1x3xi1>) dimensions = [0, 1]
  %neg = arith.constant dense<-3.40282347E+38> : tensor<1x2x1x3xf32>
  %m = arith.select %condb, %s, %neg : tensor<1x2x1x3xi1>, tensor<1x2x1x3xf32>
  %p = llm.softmax %m : tensor<1x2x1x3xf32>
  %o = llm.matmul %p, %vc : (tensor<1x2x1x3xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x1x4xf32>
  return %o, %kc : tensor<1x2x1x4xf32>, tensor<1x2x3x4xf32>
}

// -----

// Softmax over the wrong axis is not attention.
// CHECK-LABEL: func.func @not_attention
// CHECK-NOT: llm.attention
func.func @not_attention(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32> {
  %et = tensor.empty() : tensor<1x2x4x3xf32>
  %kt = linalg.transpose ins(%k : tensor<1x2x3x4xf32>) outs(%et : tensor<1x2x4x3xf32>) permutation = [0, 1, 3, 2]
  %s = llm.matmul %q, %kt : (tensor<1x2x3x4xf32>, tensor<1x2x4x3xf32>) -> tensor<1x2x3x3xf32>
  %p = llm.softmax %s axis = 2 : tensor<1x2x3x3xf32>
  %o = llm.matmul %p, %k : (tensor<1x2x3x3xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  return %o : tensor<1x2x3x4xf32>
}

// -----

// A two-expert MoE in the dense form: gates scattered from the top-1 choice,
// every expert weighted by its gate column.
// CHECK-LABEL: func.func @moe_dense
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>
// CHECK: %[[L:.*]] = llm.linear %[[X]], %arg1
// CHECK: llm.moe %[[X]], %[[L]] gate(%{{.*}}) up(%{{.*}}) down(%{{.*}}) {top_k = 1 : i64} : (tensor<4x8xf32>, tensor<4x2xf32>, tensor<2x16x8xf32>, tensor<2x16x8xf32>, tensor<2x8x16xf32>) -> tensor<4x8xf32>
#pick = affine_map<(n, e, k) -> (n, k)>
#out = affine_map<(n, e, k) -> (n, e)>
func.func @moe_dense(%x: tensor<4x8xf32>, %wr: tensor<2x8xf32>,
                     %g0: tensor<16x8xf32>, %u0: tensor<16x8xf32>, %d0: tensor<8x16xf32>,
                     %g1: tensor<16x8xf32>, %u1: tensor<16x8xf32>, %d1: tensor<8x16xf32>) -> tensor<4x8xf32> {
  %logits = llm.linear %x, %wr : (tensor<4x8xf32>, tensor<2x8xf32>) -> tensor<4x2xf32>
  %p = llm.softmax %logits : tensor<4x2xf32>
  %w, %i = llm.topk %p {k = 1 : i64} : tensor<4x2xf32> -> tensor<4x1xf32>, tensor<4x1xi64>
  %zeros = arith.constant dense<0.0> : tensor<4x2xf32>
  %gates = linalg.generic {indexing_maps = [#pick, #pick, #out], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%i, %w : tensor<4x1xi64>, tensor<4x1xf32>) outs(%zeros : tensor<4x2xf32>) {
  ^bb0(%idx: i64, %val: f32, %acc: f32):
    %e = linalg.index 1 : index
    %ii = arith.index_cast %idx : i64 to index
    %hit = arith.cmpi eq, %ii, %e : index
    %r = arith.select %hit, %val, %acc : f32
    linalg.yield %r : f32
  } -> tensor<4x2xf32>
  %e = tensor.empty() : tensor<4x8xf32>
  %a0 = llm.linear %x, %g0 : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %s0 = llm.silu %a0 : tensor<4x16xf32>
  %b0 = llm.linear %x, %u0 : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %m0 = arith.mulf %s0, %b0 : tensor<4x16xf32>
  %y0 = llm.linear %m0, %d0 : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  %c0 = tensor.extract_slice %gates[0, 0] [4, 1] [1, 1] : tensor<4x2xf32> to tensor<4xf32>
  %c0b = linalg.broadcast ins(%c0 : tensor<4xf32>) outs(%e : tensor<4x8xf32>) dimensions = [1]
  %o0 = arith.mulf %c0b, %y0 : tensor<4x8xf32>
  %a1 = llm.linear %x, %g1 : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %s1 = llm.silu %a1 : tensor<4x16xf32>
  %b1 = llm.linear %x, %u1 : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %m1 = arith.mulf %s1, %b1 : tensor<4x16xf32>
  %y1 = llm.linear %m1, %d1 : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  %c1 = tensor.extract_slice %gates[0, 1] [4, 1] [1, 1] : tensor<4x2xf32> to tensor<4xf32>
  %c1b = linalg.broadcast ins(%c1 : tensor<4xf32>) outs(%e : tensor<4x8xf32>) dimensions = [1]
  %o1 = arith.mulf %c1b, %y1 : tensor<4x8xf32>
  %out = arith.addf %o0, %o1 : tensor<4x8xf32>
  return %out : tensor<4x8xf32>
}

// -----

// The experts weighted by the top-k values alone, without the chosen
// indices: not a mixture of experts.
// CHECK-LABEL: func.func @not_moe
// CHECK-NOT: llm.moe
// CHECK: llm.topk
func.func @not_moe(%x: tensor<4x8xf32>, %wr: tensor<2x8xf32>,
                   %g0: tensor<16x8xf32>, %u0: tensor<16x8xf32>, %d0: tensor<8x16xf32>,
                   %g1: tensor<16x8xf32>, %u1: tensor<16x8xf32>, %d1: tensor<8x16xf32>) -> tensor<4x8xf32> {
  %logits = llm.linear %x, %wr : (tensor<4x8xf32>, tensor<2x8xf32>) -> tensor<4x2xf32>
  %p = llm.softmax %logits : tensor<4x2xf32>
  %w, %i = llm.topk %p {k = 1 : i64} : tensor<4x2xf32> -> tensor<4x1xf32>, tensor<4x1xi64>
  %e = tensor.empty() : tensor<4x8xf32>
  %wc = tensor.collapse_shape %w [[0, 1]] : tensor<4x1xf32> into tensor<4xf32>
  %wb = linalg.broadcast ins(%wc : tensor<4xf32>) outs(%e : tensor<4x8xf32>) dimensions = [1]
  %a0 = llm.linear %x, %g0 : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %s0 = llm.silu %a0 : tensor<4x16xf32>
  %b0 = llm.linear %x, %u0 : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %m0 = arith.mulf %s0, %b0 : tensor<4x16xf32>
  %y0 = llm.linear %m0, %d0 : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  %a1 = llm.linear %x, %g1 : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %s1 = llm.silu %a1 : tensor<4x16xf32>
  %b1 = llm.linear %x, %u1 : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %m1 = arith.mulf %s1, %b1 : tensor<4x16xf32>
  %y1 = llm.linear %m1, %d1 : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  %sum = arith.addf %y0, %y1 : tensor<4x8xf32>
  %out = arith.mulf %wb, %sum : tensor<4x8xf32>
  return %out : tensor<4x8xf32>
}

// -----

// Per-row rotary tables [B, S, D] are unsqueezed to [B, 1, S, D]: the table
// kept must be the 4-D one, even though B == Hkv here makes the 3-D one
// broadcast too (it would align the batch with the heads).
// CHECK-LABEL: func.func @rope_per_row_tables
// CHECK-DAG: %[[CE:.*]] = tensor.expand_shape %arg1
// CHECK-DAG: %[[SE:.*]] = tensor.expand_shape %arg2
// CHECK: llm.rope %arg0, %[[CE]], %[[SE]] : (tensor<2x2x3x4xf32>, tensor<2x1x3x4xf32>, tensor<2x1x3x4xf32>) -> tensor<2x2x3x4xf32>
func.func @rope_per_row_tables(%x: tensor<2x2x3x4xf32>, %cos: tensor<2x3x4xf32>, %sin: tensor<2x3x4xf32>) -> tensor<2x2x3x4xf32> {
  %e = tensor.empty() : tensor<2x2x3x4xf32>
  %ce = tensor.expand_shape %cos [[0], [1, 2], [3]] output_shape [2, 1, 3, 4] : tensor<2x3x4xf32> into tensor<2x1x3x4xf32>
  %cc = tensor.collapse_shape %ce [[0], [1, 2], [3]] : tensor<2x1x3x4xf32> into tensor<2x3x4xf32>
  %cb = linalg.broadcast ins(%cc : tensor<2x3x4xf32>) outs(%e : tensor<2x2x3x4xf32>) dimensions = [1]
  %se = tensor.expand_shape %sin [[0], [1, 2], [3]] output_shape [2, 1, 3, 4] : tensor<2x3x4xf32> into tensor<2x1x3x4xf32>
  %sc = tensor.collapse_shape %se [[0], [1, 2], [3]] : tensor<2x1x3x4xf32> into tensor<2x3x4xf32>
  %sb = linalg.broadcast ins(%sc : tensor<2x3x4xf32>) outs(%e : tensor<2x2x3x4xf32>) dimensions = [1]
  %xc = arith.mulf %x, %cb : tensor<2x2x3x4xf32>
  %lo = tensor.extract_slice %x[0, 0, 0, 0] [2, 2, 3, 2] [1, 1, 1, 1] : tensor<2x2x3x4xf32> to tensor<2x2x3x2xf32>
  %hi = tensor.extract_slice %x[0, 0, 0, 2] [2, 2, 3, 2] [1, 1, 1, 1] : tensor<2x2x3x4xf32> to tensor<2x2x3x2xf32>
  %nh = arith.negf %hi : tensor<2x2x3x2xf32>
  %rot = tensor.concat dim(3) %nh, %lo : (tensor<2x2x3x2xf32>, tensor<2x2x3x2xf32>) -> tensor<2x2x3x4xf32>
  %rs = arith.mulf %rot, %sb : tensor<2x2x3x4xf32>
  %y = arith.addf %xc, %rs : tensor<2x2x3x4xf32>
  return %y : tensor<2x2x3x4xf32>
}

// -----

// Partial rotary: rope over the first 2 of 4 features, the rest passed on.
// CHECK-LABEL: func.func @partial_rope
// CHECK: %[[R:.*]] = llm.rope %arg0, %arg1, %arg2 : (tensor<1x2x3x4xf32>, tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<1x2x3x4xf32>
// CHECK-NEXT: return %[[R]]
func.func @partial_rope(%x: tensor<1x2x3x4xf32>, %cos: tensor<3x2xf32>, %sin: tensor<3x2xf32>) -> tensor<1x2x3x4xf32> {
  %rot = tensor.extract_slice %x[0, 0, 0, 0] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %pass = tensor.extract_slice %x[0, 0, 0, 2] [1, 2, 3, 2] [1, 1, 1, 1] : tensor<1x2x3x4xf32> to tensor<1x2x3x2xf32>
  %r = llm.rope %rot, %cos, %sin : (tensor<1x2x3x2xf32>, tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<1x2x3x2xf32>
  %y = tensor.concat dim(3) %r, %pass : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x4xf32>
  return %y : tensor<1x2x3x4xf32>
}

// -----

// A per-row vector added to a square linear output is not a bias (it
// broadcasts along the features, not along the rows).
// CHECK-LABEL: func.func @row_vector_is_not_bias
// CHECK: %[[L:.*]] = llm.linear %arg0, %{{.*}} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
// CHECK: arith.addf %[[L]]
func.func @row_vector_is_not_bias(%x: tensor<4x4xf32>, %r: tensor<4xf32>) -> tensor<4x4xf32> {
  %w = arith.constant dense<1.0> : tensor<4x4xf32>
  %y = llm.matmul %x, %w : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %e = tensor.empty() : tensor<4x4xf32>
  %rb = linalg.broadcast ins(%r : tensor<4xf32>) outs(%e : tensor<4x4xf32>) dimensions = [1]
  %z = arith.addf %y, %rb : tensor<4x4xf32>
  return %z : tensor<4x4xf32>
}

// -----

// Stacked constants (the experts' weights of llm.moe) become one blob.
// CHECK-LABEL: func.func @stacked_constants
// CHECK: %[[S:.*]] = arith.constant dense_resource<stacked> : tensor<2x2x2xf32>
// CHECK: return %[[S]]
// CHECK: stacked: "0x040000000000803F0000004000004040000080400000A0400000C0400000E04000000041"
func.func @stacked_constants() -> tensor<2x2x2xf32> {
  %a = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %b = arith.constant dense<[[5.0, 6.0], [7.0, 8.0]]> : tensor<2x2xf32>
  %ea = tensor.expand_shape %a [[0, 1], [2]] output_shape [1, 2, 2] : tensor<2x2xf32> into tensor<1x2x2xf32>
  %eb = tensor.expand_shape %b [[0, 1], [2]] output_shape [1, 2, 2] : tensor<2x2xf32> into tensor<1x2x2xf32>
  %c = tensor.concat dim(0) %ea, %eb : (tensor<1x2x2xf32>, tensor<1x2x2xf32>) -> tensor<2x2x2xf32>
  return %c : tensor<2x2x2xf32>
}

// -----

// Scalar arithmetic inside a linalg body is not a tensor-level structure:
// the patterns leave it alone (this used to crash).
// CHECK-LABEL: func.func @scalar_bodies
// CHECK: linalg.generic
// CHECK: arith.mulf %{{.*}}, %{{.*}} : f32
func.func @scalar_bodies(%x: tensor<4xf32>) -> tensor<4xf32> {
  %e = tensor.empty() : tensor<4xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]}
      ins(%x : tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    %ex = math.exp %n : f32
    %one = arith.constant 1.0 : f32
    %d = arith.addf %one, %ex : f32
    %s = arith.divf %one, %d : f32
    %m = arith.mulf %a, %s : f32
    linalg.yield %m : f32
  } -> tensor<4xf32>
  return %y : tensor<4xf32>
}
