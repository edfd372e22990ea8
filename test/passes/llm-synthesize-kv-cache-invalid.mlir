// RUN: llm-opt %s --split-input-file --llm-synthesize-kv-cache -verify-diagnostics
// RUN: not llm-opt %s --split-input-file --llm-synthesize-kv-cache=func=forward 2>&1 | FileCheck %s --check-prefix=NOFUNC
// NOFUNC: error: no function @forward to cache

// expected-error @+1 {{@main has no llm.attention whose keys and values could be cached}}
func.func @main(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  return %x : tensor<2x4xf32>
}

// -----

func.func @main(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{cannot cache a non-causal attention}}
  %o = llm.attention %q, %k, %k {num_heads = 4 : i64, num_kv_heads = 2 : i64}
      : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}

// -----

func.func @main(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %m: tensor<1x1x8x8xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{cannot cache an attention with its own mask over the new keys only}}
  %o = llm.attention %q, %k, %k mask(%m) {causal, num_heads = 4 : i64, num_kv_heads = 2 : i64}
      : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x1x8x8xf32>) -> tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}

// -----

// A RoPE table that is not sliced from row 0 by the sequence length: where
// the positions start cannot be moved.
func.func @main(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %table: tensor<8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{cannot start the positions of this RoPE at the cache position}}
  %kr = llm.rope %k, %table, %table : (tensor<1x2x8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<1x2x8x16xf32>
  %o = llm.attention %q, %kr, %kr {causal, num_heads = 4 : i64, num_kv_heads = 2 : i64}
      : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}

// -----

func.func @main(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %k2: tensor<1x2x3x16xf32>) -> tensor<1x4x8x16xf32> {
  %c = arith.constant dense<0.0> : tensor<1x2x3x16xf32>
  // expected-error @+1 {{the past keys/values are not arguments of @main}}
  %o, %pk, %pv = llm.attention %q, %k, %k past(%c, %k2) {causal, num_heads = 4 : i64, num_kv_heads = 2 : i64}
      : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x3x16xf32>, tensor<1x2x3x16xf32>)
      -> (tensor<1x4x8x16xf32>, tensor<1x2x11x16xf32>, tensor<1x2x11x16xf32>)
  return %o : tensor<1x4x8x16xf32>
}
