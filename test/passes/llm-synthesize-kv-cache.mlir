// RUN: llm-opt %s --split-input-file --llm-synthesize-kv-cache | FileCheck %s

// A plain export: the keys/values go into the cache at the position, the
// attention reads the cached prefix with the kv mask, the RoPE table is
// sliced from the position, and the updated caches are returned tied to
// their arguments.
// CHECK-LABEL: func.func @llmc_step(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<1x4x?x16xf32>, %[[K:[a-z0-9]+]]: tensor<1x2x?x16xf32>, %[[V:[a-z0-9]+]]: tensor<1x2x?x16xf32>, %[[TABLE:[a-z0-9]+]]: tensor<32x16xf32>,
// CHECK-SAME: %[[POS:[a-z0-9]+]]: index {llm.role = "position"}, %[[MASK:[a-z0-9]+]]: tensor<?x?xf32> {llm.role = "kv_mask"},
// CHECK-SAME: %[[KC:[a-z0-9]+]]: tensor<?x2x?x16xf32> {llm.layer = 0 : i64, llm.role = "key_cache"}, %[[VC:[a-z0-9]+]]: tensor<?x2x?x16xf32> {llm.layer = 0 : i64, llm.role = "value_cache"})
// CHECK-SAME: -> (tensor<1x4x?x16xf32> {llm.name = "out"}, tensor<?x2x?x16xf32> {llm.role = "key_cache", llm.tied_arg = 6 : i64}, tensor<?x2x?x16xf32> {llm.role = "value_cache", llm.tied_arg = 7 : i64})
// CHECK-SAME: attributes {llm.max_positions = 32 : i64}
// CHECK: %[[COS:.*]] = tensor.extract_slice %[[TABLE]][%[[POS]], 0] [%{{.*}}, 16] [1, 1]
// CHECK: %[[KR:.*]] = llm.rope %[[K]], %[[COS]], %[[COS]]
// CHECK: %[[END:.*]] = arith.addi %[[POS]], %{{.*}} : index
// CHECK: %[[KU:.*]] = tensor.insert_slice %[[KR]] into %[[KC]][0, 0, %[[POS]], 0] [1, 2, %{{.*}}, 16]
// CHECK: %[[KS:.*]] = tensor.extract_slice %[[KU]][0, 0, 0, 0] [%{{.*}}, 2, %[[END]], 16]
// CHECK: %[[VU:.*]] = tensor.insert_slice %[[V]] into %[[VC]][0, 0, %[[POS]], 0]
// CHECK: %[[VS:.*]] = tensor.extract_slice %[[VU]][0, 0, 0, 0] [%{{.*}}, 2, %[[END]], 16]
// CHECK: %[[ROWS:.*]] = tensor.extract_slice %[[MASK]][0, 0] [1, %[[END]]] [1, 1]
// CHECK: %[[M4:.*]] = tensor.expand_shape %[[ROWS]] {{\[}}[0], [1, 2, 3]] output_shape [1, 1, 1, %[[END]]]
// CHECK: %[[O:.*]] = llm.attention %[[Q]], %[[KS]], %[[VS]] mask(%[[M4]]) {causal, num_heads = 4 : i64, num_kv_heads = 2 : i64}
// CHECK: return %[[O]], %[[KU]], %[[VU]]
func.func @main(%q: tensor<1x4x?x16xf32>, %k: tensor<1x2x?x16xf32>,
                %v: tensor<1x2x?x16xf32>, %table: tensor<32x16xf32>)
    -> (tensor<1x4x?x16xf32> {llm.name = "out"}) {
  %c2 = arith.constant 2 : index
  %t = tensor.dim %k, %c2 : tensor<1x2x?x16xf32>
  %cos = tensor.extract_slice %table[0, 0] [%t, 16] [1, 1] : tensor<32x16xf32> to tensor<?x16xf32>
  %kr = llm.rope %k, %cos, %cos : (tensor<1x2x?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>) -> tensor<1x2x?x16xf32>
  %o = llm.attention %q, %kr, %v {causal, num_heads = 4 : i64, num_kv_heads = 2 : i64}
      : (tensor<1x4x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) -> tensor<1x4x?x16xf32>
  return %o : tensor<1x4x?x16xf32>
}

// -----

// Learned absolute positions: the position range that indexes the position
// embedding starts at the cache position.
// CHECK-LABEL: func.func @llmc_step(
// CHECK-SAME: %[[POS:[a-z0-9]+]]: index {llm.role = "position"}
// CHECK-SAME: %{{[a-z0-9]+}}: tensor<?x4x?x16xf32> {llm.layer = 0 : i64, llm.role = "key_cache"}, %{{[a-z0-9]+}}: tensor<?x4x?x16xf32> {llm.layer = 0 : i64, llm.role = "value_cache"})
// CHECK-SAME: attributes {llm.max_positions = 128 : i64}
// CHECK: tensor.generate
// CHECK-NEXT: ^bb0(%[[I:.*]]: index):
// CHECK-NEXT: %[[SHIFTED:.*]] = arith.addi %[[I]], %[[POS]] : index
// CHECK-NEXT: arith.index_cast %[[SHIFTED]] : index to i64
func.func @main(%x: tensor<1x?x64xf32>, %wpe: tensor<128x64xf32>) -> tensor<1x4x?x16xf32> {
  %c1 = arith.constant 1 : index
  %t = tensor.dim %x, %c1 : tensor<1x?x64xf32>
  %range = tensor.generate %t {
  ^bb0(%i: index):
    %p = arith.index_cast %i : index to i64
    tensor.yield %p : i64
  } : tensor<?xi64>
  %pe = llm.embedding %wpe, %range : (tensor<128x64xf32>, tensor<?xi64>) -> tensor<?x64xf32>
  %h = tensor.expand_shape %pe [[0, 1], [2, 3]] output_shape [1, %t, 4, 16] : tensor<?x64xf32> into tensor<1x?x4x16xf32>
  %qkv = tensor.empty(%t) : tensor<1x4x?x16xf32>
  %tr = linalg.transpose ins(%h : tensor<1x?x4x16xf32>) outs(%qkv : tensor<1x4x?x16xf32>) permutation = [0, 2, 1, 3]
  %o = llm.attention %tr, %tr, %tr {causal, num_heads = 4 : i64, num_kv_heads = 4 : i64}
      : (tensor<1x4x?x16xf32>, tensor<1x4x?x16xf32>, tensor<1x4x?x16xf32>) -> tensor<1x4x?x16xf32>
  return %o : tensor<1x4x?x16xf32>
}

// -----

// A decode-style export: the past arguments become the cached prefix
// [0, position) (the graph's past length is the position), the attention
// appends in place and no longer has a past, and the presents are replaced
// by the cache results.
// CHECK-LABEL: func.func @llmc_step(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<1x4x1x16xf32>, %[[K:[a-z0-9]+]]: tensor<1x2x1x16xf32>, %[[V:[a-z0-9]+]]: tensor<1x2x1x16xf32>,
// CHECK-SAME: %[[POS:[a-z0-9]+]]: index {llm.role = "position"}, %{{[a-z0-9]+}}: tensor<?x?xf32> {llm.role = "kv_mask"},
// CHECK-SAME: %[[KC:[a-z0-9]+]]: tensor<?x2x?x16xf32> {llm.layer = 0 : i64, llm.role = "key_cache"}, %[[VC:[a-z0-9]+]]: tensor<?x2x?x16xf32> {llm.layer = 0 : i64, llm.role = "value_cache"})
// CHECK-SAME: -> (tensor<1x4x1x16xf32> {llm.name = "logits"}, tensor<?x2x?x16xf32> {llm.role = "key_cache", llm.tied_arg = 5 : i64}, tensor<?x2x?x16xf32> {llm.role = "value_cache", llm.tied_arg = 6 : i64})
// CHECK: %[[PAST:.*]] = tensor.extract_slice %[[KC]][0, 0, 0, 0] [%{{.*}}, 2, %[[POS]], 16]
// CHECK: %[[PASTCAST:.*]] = tensor.cast %[[PAST]] : tensor<?x2x?x16xf32> to tensor<1x2x?x16xf32>
// CHECK: tensor.dim %[[PASTCAST]]
// CHECK: %[[KU:.*]] = tensor.insert_slice %[[K]] into %[[KC]][0, 0, %[[POS]], 0]
// CHECK: llm.attention %[[Q]], %{{.*}}, %{{.*}} mask(%{{.*}}) {causal, num_heads = 4 : i64, num_kv_heads = 2 : i64}
// CHECK-NOT: past
// CHECK: return %{{.*}}, %[[KU]], %{{.*}} :
func.func @main(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>, %v: tensor<1x2x1x16xf32>,
                %pk: tensor<1x2x?x16xf32> {llm.name = "past_key_0"},
                %pv: tensor<1x2x?x16xf32> {llm.name = "past_value_0"})
    -> (tensor<1x4x1x16xf32> {llm.name = "logits"}, tensor<1x2x?x16xf32> {llm.name = "present_key_0"},
        tensor<1x2x?x16xf32> {llm.name = "present_value_0"}) {
  %c2 = arith.constant 2 : index
  %p = tensor.dim %pk, %c2 : tensor<1x2x?x16xf32>
  %o, %nk, %nv = llm.attention %q, %k, %v past(%pk, %pv) {causal, num_heads = 4 : i64, num_kv_heads = 2 : i64}
      : (tensor<1x4x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>)
      -> (tensor<1x4x1x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>)
  return %o, %nk, %nv : tensor<1x4x1x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>
}

// -----

// A decode-style export with its own mask (built by the graph from an
// attention_mask input of past + new length): the mask is kept, kv_mask is
// not added, and the attention need not be marked causal (the mask says
// it all).
// CHECK-LABEL: func.func @llmc_step(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<1x4x1x16xf32>, %[[K:[a-z0-9]+]]: tensor<1x2x1x16xf32>, %[[V:[a-z0-9]+]]: tensor<1x2x1x16xf32>, %[[M:[a-z0-9]+]]: tensor<1x1x1x?xf32>,
// CHECK: %[[KU:.*]] = tensor.insert_slice %[[K]]
// CHECK: %[[KS:.*]] = tensor.extract_slice %[[KU]][0, 0, 0, 0]
// CHECK: %[[VU:.*]] = tensor.insert_slice %[[V]]
// CHECK: %[[VS:.*]] = tensor.extract_slice %[[VU]][0, 0, 0, 0]
// CHECK-NOT: tensor.expand_shape
// CHECK: llm.attention %[[Q]], %[[KS]], %[[VS]] mask(%[[M]]) {num_heads = 4 : i64, num_kv_heads = 2 : i64}
func.func @main(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x1x16xf32>, %v: tensor<1x2x1x16xf32>,
                %mask: tensor<1x1x1x?xf32>,
                %pk: tensor<1x2x?x16xf32>, %pv: tensor<1x2x?x16xf32>)
    -> (tensor<1x4x1x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) {
  %o, %nk, %nv = llm.attention %q, %k, %v mask(%mask) past(%pk, %pv) {num_heads = 4 : i64, num_kv_heads = 2 : i64}
      : (tensor<1x4x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x1x1x?xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>)
      -> (tensor<1x4x1x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>)
  return %o, %nk, %nv : tensor<1x4x1x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>
}
