// RUN: not llm-opt %s --split-input-file --llm-quantize="weights=none kv=3" 2>&1 | FileCheck %s --check-prefix=BITS
// RUN: llm-opt %s --split-input-file --verify-diagnostics --llm-quantize="weights=none kv=4"

// BITS: error: llm-quantize: kv must be 0 (f32 cache), 8 or 4, got 3

// expected-error @below {{llm-quantize: kv=4 needs a step function over a KV cache (key_cache/value_cache arguments; run llm-synthesize-kv-cache first)}}
module {
  func.func @no_cache(%x: tensor<3x8xf32>) -> tensor<3x8xf32> {
    return %x : tensor<3x8xf32>
  }
}

// -----

// A cache read other than by whole-row slices.
func.func @step(%kc: tensor<1x2x?x16xf32> {llm.role = "key_cache", llm.layer = 0 : i64})
    -> tensor<1x2x?x16xf32> {
  // expected-error @below {{KV cache quantization: unsupported use of key_cache (layer 0): only whole-row tensor.insert_slice/extract_slice, tensor.dim and the return are rewritten}}
  %y = llm.silu %kc : tensor<1x2x?x16xf32>
  return %y : tensor<1x2x?x16xf32>
}

// -----

// Half a row read.
func.func @step(%kc: tensor<1x2x?x16xf32> {llm.role = "key_cache", llm.layer = 0 : i64}, %n: index)
    -> tensor<1x2x?x8xf32> {
  // expected-error @below {{KV cache quantization: unsupported use of key_cache (layer 0)}}
  %k = tensor.extract_slice %kc[0, 0, 0, 0] [1, 2, %n, 8] [1, 1, 1, 1] : tensor<1x2x?x16xf32> to tensor<1x2x?x8xf32>
  return %k : tensor<1x2x?x8xf32>
}

// -----

// expected-error @below {{argument 0 (value_cache): a head dimension of 15 does not fill bytes of 4-bit codes}}
func.func @step(%vc: tensor<1x2x?x15xf32> {llm.role = "value_cache", llm.layer = 0 : i64})
    -> tensor<1x2x?x15xf32> {
  return %vc : tensor<1x2x?x15xf32>
}

// -----

// expected-error @below {{argument 0 (key_cache) must be a [B, H, S, D] f32 tensor with a static D to quantize, got 'tensor<1x2x?xf32>'}}
func.func @step(%kc: tensor<1x2x?xf32> {llm.role = "key_cache", llm.layer = 0 : i64})
    -> tensor<1x2x?xf32> {
  return %kc : tensor<1x2x?xf32>
}
