// RUN: llm-opt %s --llm-quantize="weights=none kv=8" | FileCheck %s --check-prefix=KV8
// RUN: llm-opt %s --llm-quantize="weights=none kv=4" | FileCheck %s --check-prefix=KV4
// RUN: llm-opt %s --llm-quantize="bits=8 kv=8" | FileCheck %s --check-prefix=BOTH

// A step function as llm-synthesize-kv-cache writes it: the new keys and
// values go into the caches at %pos, attention reads [0, pos + T).

// KV8-LABEL: func.func @llmc_step
// KV8-SAME: %[[X:[a-z0-9]+]]: tensor<1x2x?x16xf32>
// KV8-SAME: %[[POS:[a-z0-9]+]]: index
// KV8-SAME: %[[KC:[a-z0-9]+]]: tensor<1x2x?x16xi8> {llm.layer = 0 : i64, llm.role = "key_cache"}
// KV8-SAME: %[[VC:[a-z0-9]+]]: tensor<1x2x?x16xi8> {llm.layer = 0 : i64, llm.role = "value_cache"}
// KV8-SAME: %[[Q:[a-z0-9]+]]: tensor<1x4x?x16xf32>
// KV8-SAME: %[[KS:[a-z0-9]+]]: tensor<1x2x?xf32> {llm.layer = 0 : i64, llm.role = "key_scale"}
// KV8-SAME: %[[VS:[a-z0-9]+]]: tensor<1x2x?xf32> {llm.layer = 0 : i64, llm.role = "value_scale"}
// KV8-SAME: -> (tensor<1x4x?x16xf32>, tensor<1x2x?x16xi8> {llm.role = "key_cache", llm.tied_arg = 2 : i64}, tensor<1x2x?x16xi8> {llm.role = "value_cache", llm.tied_arg = 3 : i64}, tensor<1x2x?xf32> {llm.role = "key_scale", llm.tied_arg = 5 : i64}, tensor<1x2x?xf32> {llm.role = "value_scale", llm.tied_arg = 6 : i64})
// KV8-SAME: attributes {llm.kv_bits = 8 : i64}
// KV8: %[[KQ:.*]], %[[KQS:.*]] = llm.kv_quantize %[[X]] bits(8) : tensor<1x2x?x16xf32> -> tensor<1x2x?x16xi8>, tensor<1x2x?xf32>
// KV8: %[[KC1:.*]] = tensor.insert_slice %[[KQ]] into %[[KC]][0, 0, %[[POS]], 0] [1, 2, %{{.*}}, 16] [1, 1, 1, 1]
// KV8: %[[KS1:.*]] = tensor.insert_slice %[[KQS]] into %[[KS]][0, 0, %[[POS]]] [1, 2, %{{.*}}] [1, 1, 1]
// KV8: llm.kv_quantize %[[X]] bits(8)
// KV8: %[[KR:.*]] = tensor.extract_slice %[[KC1]][0, 0, 0, 0] [1, 2, %[[LEN:.*]], 16] [1, 1, 1, 1]
// KV8: %[[KRS:.*]] = tensor.extract_slice %[[KS1]][0, 0, 0] [1, 2, %[[LEN]]] [1, 1, 1]
// KV8: %[[K:.*]] = llm.kv_dequantize %[[KR]], %[[KRS]] bits(8) : (tensor<1x2x?x16xi8>, tensor<1x2x?xf32>) -> tensor<1x2x?x16xf32>
// KV8: %[[V:.*]] = llm.kv_dequantize
// KV8: %[[O:.*]] = llm.attention %[[Q]], %[[K]], %[[V]]
// KV8: return %[[O]], %[[KC1]], %{{.*}}, %[[KS1]], %{{.*}} :

// KV4-LABEL: func.func @llmc_step
// KV4-SAME: tensor<1x2x?x8xi8> {llm.layer = 0 : i64, llm.role = "key_cache"}
// KV4-SAME: attributes {llm.kv_bits = 4 : i64}
// KV4: llm.kv_quantize %{{.*}} bits(4) : tensor<1x2x?x16xf32> -> tensor<1x2x?x8xi8>, tensor<1x2x?xf32>
// KV4: tensor.insert_slice %{{.*}}[0, 0, %{{.*}}, 0] [1, 2, %{{.*}}, 8] [1, 1, 1, 1]
// KV4: llm.kv_dequantize %{{.*}} bits(4) : (tensor<1x2x?x8xi8>, tensor<1x2x?xf32>) -> tensor<1x2x?x16xf32>

// Weights and the cache together; a function without caches keeps its
// signature. The scale arguments follow all others, so the tied_arg
// indices of the caches stay valid.
// BOTH-LABEL: func.func @llmc_step
// BOTH: llm.kv_quantize
// BOTH-LABEL: func.func @no_cache
// BOTH-NOT: kv_quantize
// BOTH: llm.quantized_linear
// BOTH-NOT: kv_bits

func.func @llmc_step(%x: tensor<1x2x?x16xf32>, %pos: index,
                     %kc: tensor<1x2x?x16xf32> {llm.role = "key_cache", llm.layer = 0 : i64},
                     %vc: tensor<1x2x?x16xf32> {llm.role = "value_cache", llm.layer = 0 : i64},
                     %q: tensor<1x4x?x16xf32>)
    -> (tensor<1x4x?x16xf32>,
        tensor<1x2x?x16xf32> {llm.role = "key_cache", llm.tied_arg = 2 : i64},
        tensor<1x2x?x16xf32> {llm.role = "value_cache", llm.tied_arg = 3 : i64}) {
  %c2 = arith.constant 2 : index
  %t = tensor.dim %x, %c2 : tensor<1x2x?x16xf32>
  %k1 = tensor.insert_slice %x into %kc[0, 0, %pos, 0] [1, 2, %t, 16] [1, 1, 1, 1] : tensor<1x2x?x16xf32> into tensor<1x2x?x16xf32>
  %v1 = tensor.insert_slice %x into %vc[0, 0, %pos, 0] [1, 2, %t, 16] [1, 1, 1, 1] : tensor<1x2x?x16xf32> into tensor<1x2x?x16xf32>
  %len = arith.addi %pos, %t : index
  %k = tensor.extract_slice %k1[0, 0, 0, 0] [1, 2, %len, 16] [1, 1, 1, 1] : tensor<1x2x?x16xf32> to tensor<1x2x?x16xf32>
  %v = tensor.extract_slice %v1[0, 0, 0, 0] [1, 2, %len, 16] [1, 1, 1, 1] : tensor<1x2x?x16xf32> to tensor<1x2x?x16xf32>
  %o = llm.attention %q, %k, %v {causal, num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<1x4x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) -> tensor<1x4x?x16xf32>
  return %o, %k1, %v1 : tensor<1x4x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>
}

func.func @no_cache(%x: tensor<3x8xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[0.5, -1.0, 0.25, 2.0, 0.0, 1.5, -0.75, 1.0], [1.0, 0.5, -2.0, 0.125, 0.0, -1.0, 0.5, 0.25]]> : tensor<2x8xf32>
  %y = llm.linear %x, %w : (tensor<3x8xf32>, tensor<2x8xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
