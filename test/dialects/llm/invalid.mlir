// Every verifier branch of the llm dialect, one split each.
// RUN: llm-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{device kind must not be empty}}
func.func @device_empty() attributes {llm.device = #llm.device<"">} { return }

// -----

// expected-error @+1 {{device kind 'n pu' may only contain letters, digits, '_' and '-'}}
func.func @device_bad_kind() attributes {llm.device = #llm.device<"n pu">} { return }

// -----

// expected-error @+1 {{device index must be non-negative, got -2}}
func.func @device_bad_index() attributes {llm.device = #llm.device<"npu", -2>} { return }

// -----

// expected-error @+1 {{'llm.device' must be a #llm.device attribute, got "npu"}}
func.func @device_not_device() attributes {llm.device = "npu"} { return }

// -----

// expected-error @+1 {{unknown llm dialect attribute 'llm.placed'}}
func.func @unknown_llm_attr() attributes {llm.placed = 1} { return }

// -----

// expected-error @+1 {{'llm.placement' must be a dictionary with a #llm.device 'host', got {target = "edge-npu-pim"}}}
func.func @placement_without_host() attributes {llm.placement = {target = "edge-npu-pim"}} { return }

// -----

func.func @embedding_table_rank(%t: tensor<256xf32>, %i: tensor<4xi64>) {
  // expected-error @+1 {{'llm.embedding' op table must have rank 2 ([vocab, dim]), got 'tensor<256xf32>'}}
  %0 = llm.embedding %t, %i : (tensor<256xf32>, tensor<4xi64>) -> tensor<4x1xf32>
  return
}

// -----

func.func @embedding_result(%t: tensor<256x64xf32>, %i: tensor<4xi64>) {
  // expected-error @+1 {{'llm.embedding' op result type 'tensor<4x32xf32>' is incompatible with the inferred type 'tensor<4x64xf32>'}}
  %0 = llm.embedding %t, %i : (tensor<256x64xf32>, tensor<4xi64>) -> tensor<4x32xf32>
  return
}

// -----

func.func @embedding_float_ids(%t: tensor<256x64xf32>, %i: tensor<4xf32>) {
  // expected-error @+1 {{'llm.embedding' op operand #1 must be ranked tensor of signless integer values}}
  %0 = llm.embedding %t, %i : (tensor<256x64xf32>, tensor<4xf32>) -> tensor<4x64xf32>
  return
}

// -----

func.func @linear_input_rank(%x: tensor<f32>, %w: tensor<4x8xf32>) {
  // expected-error @+1 {{'llm.linear' op input must have rank >= 1, got 'tensor<f32>'}}
  %0 = llm.linear %x, %w : (tensor<f32>, tensor<4x8xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @linear_weight_rank(%x: tensor<3x8xf32>, %w: tensor<2x4x8xf32>) {
  // expected-error @+1 {{'llm.linear' op weight must have rank 2 ([out_features, in_features]), got 'tensor<2x4x8xf32>'}}
  %0 = llm.linear %x, %w : (tensor<3x8xf32>, tensor<2x4x8xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @linear_weight_type(%x: tensor<3x8xf32>, %w: tensor<4x8xf16>) {
  // expected-error @+1 {{'llm.linear' op weight element type 'f16' does not match the input element type 'f32'}}
  %0 = llm.linear %x, %w : (tensor<3x8xf32>, tensor<4x8xf16>) -> tensor<3x4xf32>
  return
}

// -----

func.func @linear_k(%x: tensor<3x9xf32>, %w: tensor<4x8xf32>) {
  // expected-error @+1 {{'llm.linear' op input feature dimension (9) does not match weight in_features (8)}}
  %0 = llm.linear %x, %w : (tensor<3x9xf32>, tensor<4x8xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @linear_bias_rank(%x: tensor<3x8xf32>, %w: tensor<4x8xf32>, %b: tensor<1x4xf32>) {
  // expected-error @+1 {{'llm.linear' op bias must have rank 1 ([out_features]), got 'tensor<1x4xf32>'}}
  %0 = llm.linear %x, %w, %b : (tensor<3x8xf32>, tensor<4x8xf32>, tensor<1x4xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @linear_bias_type(%x: tensor<3x8xf32>, %w: tensor<4x8xf32>, %b: tensor<4xbf16>) {
  // expected-error @+1 {{'llm.linear' op bias element type 'bf16' does not match the input element type 'f32'}}
  %0 = llm.linear %x, %w, %b : (tensor<3x8xf32>, tensor<4x8xf32>, tensor<4xbf16>) -> tensor<3x4xf32>
  return
}

// -----

func.func @linear_bias_size(%x: tensor<3x8xf32>, %w: tensor<4x8xf32>, %b: tensor<5xf32>) {
  // expected-error @+1 {{'llm.linear' op bias size (5) does not match weight out_features (4)}}
  %0 = llm.linear %x, %w, %b : (tensor<3x8xf32>, tensor<4x8xf32>, tensor<5xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @linear_result(%x: tensor<3x8xf32>, %w: tensor<4x8xf32>) {
  // expected-error @+1 {{'llm.linear' op result type 'tensor<3x8xf32>' is incompatible with the inferred type 'tensor<3x4xf32>'}}
  %0 = llm.linear %x, %w : (tensor<3x8xf32>, tensor<4x8xf32>) -> tensor<3x8xf32>
  return
}

// -----

func.func @linear_int(%x: tensor<3x8xi8>, %w: tensor<4x8xf32>) {
  // expected-error @+1 {{'llm.linear' op operand #0 must be ranked tensor of floating-point values}}
  %0 = llm.linear %x, %w : (tensor<3x8xi8>, tensor<4x8xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @matmul_rank(%a: tensor<8xf32>, %b: tensor<8x4xf32>) {
  // expected-error @+1 {{'llm.matmul' op operands must have rank >= 2, got 'tensor<8xf32>' and 'tensor<8x4xf32>'}}
  %0 = llm.matmul %a, %b : (tensor<8xf32>, tensor<8x4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @matmul_type(%a: tensor<2x8xf32>, %b: tensor<8x4xf16>) {
  // expected-error @+1 {{'llm.matmul' op rhs element type 'f16' does not match the input element type 'f32'}}
  %0 = llm.matmul %a, %b : (tensor<2x8xf32>, tensor<8x4xf16>) -> tensor<2x4xf32>
  return
}

// -----

func.func @matmul_k(%a: tensor<2x8xf32>, %b: tensor<7x4xf32>) {
  // expected-error @+1 {{'llm.matmul' op lhs contraction dimension (8) does not match rhs contraction dimension (7)}}
  %0 = llm.matmul %a, %b : (tensor<2x8xf32>, tensor<7x4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @matmul_batch(%a: tensor<2x3x2x8xf32>, %b: tensor<4x8x4xf32>) {
  // expected-error @+1 {{'llm.matmul' op batch dimensions [2, 3] and [4] do not broadcast}}
  %0 = llm.matmul %a, %b : (tensor<2x3x2x8xf32>, tensor<4x8x4xf32>) -> tensor<2x3x2x4xf32>
  return
}

// -----

func.func @matmul_result(%a: tensor<2x8xf32>, %b: tensor<8x4xf32>) {
  // expected-error @+1 {{'llm.matmul' op result type 'tensor<2x5xf32>' is incompatible with the inferred type 'tensor<2x4xf32>'}}
  %0 = llm.matmul %a, %b : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @rms_epsilon(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'llm.rms_norm' op epsilon must be finite and non-negative, got -1.000000e+00}}
  %0 = llm.rms_norm %x {epsilon = -1.0 : f32} : (tensor<2x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @rms_epsilon_nan(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'llm.rms_norm' op epsilon must be finite and non-negative, got nan}}
  %0 = llm.rms_norm %x {epsilon = 0x7FC00000 : f32} : (tensor<2x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @rms_rank(%x: tensor<f32>) {
  // expected-error @+1 {{'llm.rms_norm' op input must have rank >= 1, got 'tensor<f32>'}}
  %0 = llm.rms_norm %x {epsilon = 1.0e-6 : f32} : (tensor<f32>) -> tensor<f32>
  return
}

// -----

func.func @rms_weight_rank(%x: tensor<2x8xf32>, %w: tensor<1x8xf32>) {
  // expected-error @+1 {{'llm.rms_norm' op weight must have rank 1 ([dim]), got 'tensor<1x8xf32>'}}
  %0 = llm.rms_norm %x, %w {epsilon = 1.0e-6 : f32} : (tensor<2x8xf32>, tensor<1x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @rms_weight_type(%x: tensor<2x8xf32>, %w: tensor<8xf16>) {
  // expected-error @+1 {{'llm.rms_norm' op weight element type 'f16' does not match the input element type 'f32'}}
  %0 = llm.rms_norm %x, %w {epsilon = 1.0e-6 : f32} : (tensor<2x8xf32>, tensor<8xf16>) -> tensor<2x8xf32>
  return
}

// -----

func.func @rms_weight_size(%x: tensor<2x8xf32>, %w: tensor<4xf32>) {
  // expected-error @+1 {{'llm.rms_norm' op weight size (4) does not match input feature dimension (8)}}
  %0 = llm.rms_norm %x, %w {epsilon = 1.0e-6 : f32} : (tensor<2x8xf32>, tensor<4xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @rms_result(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'llm.rms_norm' op result type 'tensor<2x8xf16>' is incompatible with the inferred type 'tensor<2x8xf32>'}}
  %0 = llm.rms_norm %x {epsilon = 1.0e-6 : f32} : (tensor<2x8xf32>) -> tensor<2x8xf16>
  return
}

// -----

func.func @layer_norm_epsilon(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'llm.layer_norm' op epsilon must be finite and non-negative, got INF}}
  %0 = llm.layer_norm %x {epsilon = 0x7F800000 : f32} : (tensor<2x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @layer_norm_bias_size(%x: tensor<2x8xf32>, %w: tensor<8xf32>, %b: tensor<7xf32>) {
  // expected-error @+1 {{'llm.layer_norm' op bias size (7) does not match input feature dimension (8)}}
  %0 = llm.layer_norm %x weight %w bias %b {epsilon = 1.0e-5 : f32} : (tensor<2x8xf32>, tensor<8xf32>, tensor<7xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @layer_norm_weight_rank(%x: tensor<2x8xf32>, %w: tensor<2x8xf32>) {
  // expected-error @+1 {{'llm.layer_norm' op weight must have rank 1 ([dim]), got 'tensor<2x8xf32>'}}
  %0 = llm.layer_norm %x weight %w {epsilon = 1.0e-5 : f32} : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @layer_norm_result(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'llm.layer_norm' op result type 'tensor<2x9xf32>' is incompatible with the inferred type 'tensor<2x8xf32>'}}
  %0 = llm.layer_norm %x {epsilon = 1.0e-5 : f32} : (tensor<2x8xf32>) -> tensor<2x9xf32>
  return
}

// -----

func.func @rope_types(%x: tensor<1x4x8x16xf32>, %c: tensor<8x16xf32>, %s: tensor<8x8xf32>) {
  // expected-error @+1 {{'llm.rope' op cos and sin must have the same type, got 'tensor<8x16xf32>' and 'tensor<8x8xf32>'}}
  %0 = llm.rope %x, %c, %s : (tensor<1x4x8x16xf32>, tensor<8x16xf32>, tensor<8x8xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @rope_rank(%x: tensor<f32>, %c: tensor<f32>) {
  // expected-error @+1 {{'llm.rope' op input and cos/sin must have rank >= 1}}
  %0 = llm.rope %x, %c, %c : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<f32>
  return
}

// -----

func.func @rope_type(%x: tensor<1x4x8x16xf32>, %c: tensor<8x16xf16>) {
  // expected-error @+1 {{'llm.rope' op cos/sin element type 'f16' does not match the input element type 'f32'}}
  %0 = llm.rope %x, %c, %c : (tensor<1x4x8x16xf32>, tensor<8x16xf16>, tensor<8x16xf16>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @rope_odd(%x: tensor<1x4x8x16xf32>, %c: tensor<8x7xf32>) {
  // expected-error @+1 {{'llm.rope' op rotary dimension (last dimension of cos/sin, 7) must be even}}
  %0 = llm.rope %x, %c, %c : (tensor<1x4x8x16xf32>, tensor<8x7xf32>, tensor<8x7xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @rope_too_wide(%x: tensor<1x4x8x16xf32>, %c: tensor<8x32xf32>) {
  // expected-error @+1 {{'llm.rope' op rotary dimension (32) exceeds the input feature dimension (16)}}
  %0 = llm.rope %x, %c, %c : (tensor<1x4x8x16xf32>, tensor<8x32xf32>, tensor<8x32xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @rope_broadcast(%x: tensor<1x4x8x16xf32>, %c: tensor<7x16xf32>) {
  // expected-error @+1 {{'llm.rope' op cos/sin of type 'tensor<7x16xf32>' does not broadcast to [1, 4, 8, 16]}}
  %0 = llm.rope %x, %c, %c : (tensor<1x4x8x16xf32>, tensor<7x16xf32>, tensor<7x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @rope_broadcast_rank(%x: tensor<1x4x8x16xf32>, %c: tensor<1x1x1x8x16xf32>) {
  // expected-error @+1 {{'llm.rope' op cos/sin of type 'tensor<1x1x1x8x16xf32>' does not broadcast to [1, 4, 8, 16]}}
  %0 = llm.rope %x, %c, %c : (tensor<1x4x8x16xf32>, tensor<1x1x1x8x16xf32>, tensor<1x1x1x8x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @rope_result(%x: tensor<1x4x8x16xf32>, %c: tensor<8x16xf32>) {
  // expected-error @+1 {{'llm.rope' op result type 'tensor<1x4x8x8xf32>' is incompatible with the inferred type 'tensor<1x4x8x16xf32>'}}
  %0 = llm.rope %x, %c, %c : (tensor<1x4x8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<1x4x8x8xf32>
  return
}

// -----

func.func @att_scale(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) {
  // expected-error @+1 {{'llm.attention' op scale must be finite and positive, got 0.000000e+00}}
  %0 = llm.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 0.0 : f32} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @att_window(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) {
  // expected-error @+1 {{'llm.attention' op sliding_window requires causal attention}}
  %0 = llm.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64, sliding_window = 4 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @att_window_zero(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) {
  // expected-error @+1 {{'llm.attention' op attribute 'sliding_window' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = llm.attention %q, %k, %v {causal, num_heads = 4 : i64, num_kv_heads = 2 : i64, sliding_window = 0 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @att_heads_zero(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) {
  // expected-error @+1 {{'llm.attention' op attribute 'num_kv_heads' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = llm.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 0 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @att_q_rank(%q: tensor<4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) {
  // expected-error @+1 {{'llm.attention' op query must have rank 4 ([batch, heads, seq, head_dim]), got 'tensor<4x8x16xf32>'}}
  %0 = llm.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @att_k_rank(%q: tensor<1x4x8x16xf32>, %k: tensor<2x8x16xf32>, %v: tensor<1x2x8x16xf32>) {
  // expected-error @+1 {{'llm.attention' op key must have rank 4 ([batch, heads, seq, head_dim]), got 'tensor<2x8x16xf32>'}}
  %0 = llm.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<1x4x8x16xf32>, tensor<2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @att_v_rank(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<2x8x16xf32>) {
  // expected-error @+1 {{'llm.attention' op value must have rank 4 ([batch, heads, seq, head_dim]), got 'tensor<2x8x16xf32>'}}
  %0 = llm.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<2x8x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @att_k_type(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf16>, %v: tensor<1x2x8x16xf32>) {
  // expected-error @+1 {{'llm.attention' op key element type 'f16' does not match the input element type 'f32'}}
  %0 = llm.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf16>, tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @att_v_type(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf16>) {
  // expected-error @+1 {{'llm.attention' op value element type 'f16' does not match the input element type 'f32'}}
  %0 = llm.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf16>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @att_multiple(%q: tensor<1x4x8x16xf32>, %k: tensor<1x3x8x16xf32>, %v: tensor<1x3x8x16xf32>) {
  // expected-error @+1 {{'llm.attention' op num_heads (4) must be a multiple of num_kv_heads (3)}}
  %0 = llm.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 3 : i64} : (tensor<1x4x8x16xf32>, tensor<1x3x8x16xf32>, tensor<1x3x8x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @att_q_heads(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) {
  // expected-error @+1 {{'llm.attention' op query heads (4) does not match num_heads (8)}}
  %0 = llm.attention %q, %k, %v {num_heads = 8 : i64, num_kv_heads = 2 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @att_k_heads(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x4x8x16xf32>) {
  // expected-error @+1 {{'llm.attention' op key heads (2) does not match num_kv_heads (4)}}
  %0 = llm.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 4 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @att_v_heads(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x1x8x16xf32>) {
  // expected-error @+1 {{'llm.attention' op value heads (1) does not match num_kv_heads (2)}}
  %0 = llm.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x1x8x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @att_k_batch(%q: tensor<1x4x8x16xf32>, %k: tensor<2x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) {
  // expected-error @+1 {{'llm.attention' op key batch (2) does not match query batch (1)}}
  %0 = llm.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<1x4x8x16xf32>, tensor<2x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @att_v_batch(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<3x2x8x16xf32>) {
  // expected-error @+1 {{'llm.attention' op value batch (3) does not match query batch (1)}}
  %0 = llm.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<3x2x8x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @att_head_dim(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x32xf32>, %v: tensor<1x2x8x16xf32>) {
  // expected-error @+1 {{'llm.attention' op key head_dim (32) does not match query head_dim (16)}}
  %0 = llm.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x32xf32>, tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @att_v_seq(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x9x16xf32>) {
  // expected-error @+1 {{'llm.attention' op value seq (9) does not match key seq (8)}}
  %0 = llm.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x9x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @att_mask(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %m: tensor<1x1x8x9xf32>) {
  // expected-error @+1 {{'llm.attention' op mask of type 'tensor<1x1x8x9xf32>' does not broadcast to [1, 4, 8, 8]}}
  %0 = llm.attention %q, %k, %v mask(%m) {num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x1x8x9xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @att_result(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) {
  // expected-error @+1 {{'llm.attention' op result type 'tensor<1x2x8x16xf32>' is incompatible with the inferred type 'tensor<1x4x8x16xf32>'}}
  %0 = llm.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32>
  return
}

// -----

func.func @past_rank(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %pk: tensor<2x7x16xf32>, %pv: tensor<1x2x7x16xf32>) {
  // expected-error @+1 {{'llm.attention' op past_key must have rank 4 ([batch, heads, seq, head_dim]), got 'tensor<2x7x16xf32>'}}
  %0:3 = llm.attention %q, %k, %v past(%pk, %pv) {num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<2x7x16xf32>, tensor<1x2x7x16xf32>) -> (tensor<1x4x8x16xf32>, tensor<1x2x15x16xf32>, tensor<1x2x15x16xf32>)
  return
}

// -----

func.func @past_value_rank(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %pk: tensor<1x2x7x16xf32>, %pv: tensor<2x7x16xf32>) {
  // expected-error @+1 {{'llm.attention' op past_value must have rank 4 ([batch, heads, seq, head_dim]), got 'tensor<2x7x16xf32>'}}
  %0:3 = llm.attention %q, %k, %v past(%pk, %pv) {num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x7x16xf32>, tensor<2x7x16xf32>) -> (tensor<1x4x8x16xf32>, tensor<1x2x15x16xf32>, tensor<1x2x15x16xf32>)
  return
}

// -----

func.func @past_type(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %pk: tensor<1x2x7x16xf16>, %pv: tensor<1x2x7x16xf32>) {
  // expected-error @+1 {{'llm.attention' op past_key element type 'f16' does not match the input element type 'f32'}}
  %0:3 = llm.attention %q, %k, %v past(%pk, %pv) {num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x7x16xf16>, tensor<1x2x7x16xf32>) -> (tensor<1x4x8x16xf32>, tensor<1x2x15x16xf32>, tensor<1x2x15x16xf32>)
  return
}

// -----

func.func @past_value_type(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %pk: tensor<1x2x7x16xf32>, %pv: tensor<1x2x7x16xf16>) {
  // expected-error @+1 {{'llm.attention' op past_value element type 'f16' does not match the input element type 'f32'}}
  %0:3 = llm.attention %q, %k, %v past(%pk, %pv) {num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x7x16xf32>, tensor<1x2x7x16xf16>) -> (tensor<1x4x8x16xf32>, tensor<1x2x15x16xf32>, tensor<1x2x15x16xf32>)
  return
}

// -----

func.func @past_batch(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %pk: tensor<2x2x7x16xf32>, %pv: tensor<1x2x7x16xf32>) {
  // expected-error @+1 {{'llm.attention' op past_key batch (2) does not match query batch (1)}}
  %0:3 = llm.attention %q, %k, %v past(%pk, %pv) {num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<2x2x7x16xf32>, tensor<1x2x7x16xf32>) -> (tensor<1x4x8x16xf32>, tensor<1x2x15x16xf32>, tensor<1x2x15x16xf32>)
  return
}

// -----

func.func @past_value_batch(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %pk: tensor<1x2x7x16xf32>, %pv: tensor<2x2x7x16xf32>) {
  // expected-error @+1 {{'llm.attention' op past_value batch (2) does not match query batch (1)}}
  %0:3 = llm.attention %q, %k, %v past(%pk, %pv) {num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x7x16xf32>, tensor<2x2x7x16xf32>) -> (tensor<1x4x8x16xf32>, tensor<1x2x15x16xf32>, tensor<1x2x15x16xf32>)
  return
}

// -----

func.func @past_heads(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %pk: tensor<1x4x7x16xf32>, %pv: tensor<1x2x7x16xf32>) {
  // expected-error @+1 {{'llm.attention' op past_key heads (4) does not match num_kv_heads (2)}}
  %0:3 = llm.attention %q, %k, %v past(%pk, %pv) {num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x4x7x16xf32>, tensor<1x2x7x16xf32>) -> (tensor<1x4x8x16xf32>, tensor<1x2x15x16xf32>, tensor<1x2x15x16xf32>)
  return
}

// -----

func.func @past_value_heads(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %pk: tensor<1x2x7x16xf32>, %pv: tensor<1x4x7x16xf32>) {
  // expected-error @+1 {{'llm.attention' op past_value heads (4) does not match num_kv_heads (2)}}
  %0:3 = llm.attention %q, %k, %v past(%pk, %pv) {num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x7x16xf32>, tensor<1x4x7x16xf32>) -> (tensor<1x4x8x16xf32>, tensor<1x2x15x16xf32>, tensor<1x2x15x16xf32>)
  return
}

// -----

func.func @past_head_dim(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %pk: tensor<1x2x7x8xf32>, %pv: tensor<1x2x7x16xf32>) {
  // expected-error @+1 {{'llm.attention' op past_key head_dim (8) does not match query head_dim (16)}}
  %0:3 = llm.attention %q, %k, %v past(%pk, %pv) {num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x7x8xf32>, tensor<1x2x7x16xf32>) -> (tensor<1x4x8x16xf32>, tensor<1x2x15x16xf32>, tensor<1x2x15x16xf32>)
  return
}

// -----

func.func @past_value_head_dim(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %pk: tensor<1x2x7x16xf32>, %pv: tensor<1x2x7x8xf32>) {
  // expected-error @+1 {{'llm.attention' op past_value head_dim (8) does not match value head_dim (16)}}
  %0:3 = llm.attention %q, %k, %v past(%pk, %pv) {num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x7x16xf32>, tensor<1x2x7x8xf32>) -> (tensor<1x4x8x16xf32>, tensor<1x2x15x16xf32>, tensor<1x2x15x16xf32>)
  return
}

// -----

func.func @past_seq(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %pk: tensor<1x2x7x16xf32>, %pv: tensor<1x2x6x16xf32>) {
  // expected-error @+1 {{'llm.attention' op past_value seq (6) does not match past_key seq (7)}}
  %0:3 = llm.attention %q, %k, %v past(%pk, %pv) {num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x7x16xf32>, tensor<1x2x6x16xf32>) -> (tensor<1x4x8x16xf32>, tensor<1x2x15x16xf32>, tensor<1x2x15x16xf32>)
  return
}

// -----

func.func @present_key(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %pk: tensor<1x2x7x16xf32>, %pv: tensor<1x2x7x16xf32>) {
  // expected-error @+1 {{'llm.attention' op present_key type 'tensor<1x2x8x16xf32>' is incompatible with the inferred type 'tensor<1x2x15x16xf32>'}}
  %0:3 = llm.attention %q, %k, %v past(%pk, %pv) {num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x7x16xf32>, tensor<1x2x7x16xf32>) -> (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x15x16xf32>)
  return
}

// -----

func.func @present_value(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %pk: tensor<1x2x7x16xf32>, %pv: tensor<1x2x7x16xf32>) {
  // expected-error @+1 {{'llm.attention' op present_value type 'tensor<1x2x16x16xf32>' is incompatible with the inferred type 'tensor<1x2x15x16xf32>'}}
  %0:3 = llm.attention %q, %k, %v past(%pk, %pv) {num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x7x16xf32>, tensor<1x2x7x16xf32>) -> (tensor<1x4x8x16xf32>, tensor<1x2x15x16xf32>, tensor<1x2x16x16xf32>)
  return
}

// -----

func.func @past_no_present(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %pk: tensor<1x2x7x16xf32>, %pv: tensor<1x2x7x16xf32>) {
  // expected-error @+1 {{'llm.attention' op expects 2 present results (key, value) with a past KV cache, got 0}}
  %0 = llm.attention %q, %k, %v past(%pk, %pv) {num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x7x16xf32>, tensor<1x2x7x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @present_without_past(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) {
  // expected-error @+1 {{'llm.attention' op expects 0 present results (key, value) without a past KV cache, got 2}}
  %0:3 = llm.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>)
  return
}

// -----

func.func @past_key_alone(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %pk: tensor<1x2x7x16xf32>, %pv: tensor<1x2x7x16xf32>) {
  // expected-error @+1 {{'llm.attention' op past_key and past_value must be given together}}
  %0:3 = "llm.attention"(%q, %k, %v, %pk) <{num_heads = 4 : i64, num_kv_heads = 2 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 0>}> : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x7x16xf32>) -> (tensor<1x4x8x16xf32>, tensor<1x2x15x16xf32>, tensor<1x2x15x16xf32>)
  return
}

// -----

func.func @softmax_axis(%x: tensor<1x8x8xf32>) {
  // expected-error @+1 {{'llm.softmax' op axis 3 is out of range for rank 3}}
  %0 = llm.softmax %x axis = 3 : tensor<1x8x8xf32>
  return
}

// -----

func.func @softmax_axis_neg(%x: tensor<1x8x8xf32>) {
  // expected-error @+1 {{'llm.softmax' op axis -4 is out of range for rank 3}}
  %0 = llm.softmax %x axis = -4 : tensor<1x8x8xf32>
  return
}

// -----

func.func @softmax_int(%x: tensor<1x8x8xi32>) {
  // expected-error @+1 {{'llm.softmax' op operand #0 must be ranked tensor of floating-point values}}
  %0 = llm.softmax %x : tensor<1x8x8xi32>
  return
}

// -----

func.func @gelu_bad_approx(%x: tensor<4xf32>) {
  // expected-error @+2 {{expected ::mlir::llm::GeluApproximation to be one of: none, tanh}}
  // expected-error @+1 {{failed to parse LLM_GeluApproximationAttr parameter 'value'}}
  %0 = llm.gelu %x approximate = erf : tensor<4xf32>
  return
}

// -----

func.func @silu_type(%x: tensor<4xf32>) {
  // expected-error @+1 {{'llm.silu' op requires the same type for all operands and results}}
  %0 = "llm.silu"(%x) : (tensor<4xf32>) -> tensor<4xf16>
  return
}

// -----

func.func @moe_input_rank(%x: tensor<f32>, %l: tensor<1x8x8xf32>, %g: tensor<8x128x64xf32>, %u: tensor<8x128x64xf32>, %d: tensor<8x64x128xf32>) {
  // expected-error @+1 {{'llm.moe' op input must have rank >= 1, got 'tensor<f32>'}}
  %0 = llm.moe %x, %l gate(%g) up(%u) down(%d) {top_k = 2 : i64} : (tensor<f32>, tensor<1x8x8xf32>, tensor<8x128x64xf32>, tensor<8x128x64xf32>, tensor<8x64x128xf32>) -> tensor<f32>
  return
}

// -----

func.func @moe_logits_rank(%x: tensor<1x8x64xf32>, %l: tensor<8x8xf32>, %g: tensor<8x128x64xf32>, %u: tensor<8x128x64xf32>, %d: tensor<8x64x128xf32>) {
  // expected-error @+1 {{'llm.moe' op router_logits must have the input's rank (3) with experts last, got 'tensor<8x8xf32>'}}
  %0 = llm.moe %x, %l gate(%g) up(%u) down(%d) {top_k = 2 : i64} : (tensor<1x8x64xf32>, tensor<8x8xf32>, tensor<8x128x64xf32>, tensor<8x128x64xf32>, tensor<8x64x128xf32>) -> tensor<1x8x64xf32>
  return
}

// -----

func.func @moe_logits_dim(%x: tensor<1x8x64xf32>, %l: tensor<1x4x8xf32>, %g: tensor<8x128x64xf32>, %u: tensor<8x128x64xf32>, %d: tensor<8x64x128xf32>) {
  // expected-error @+1 {{'llm.moe' op router_logits dimension 1 (4) does not match input dimension 1 (8)}}
  %0 = llm.moe %x, %l gate(%g) up(%u) down(%d) {top_k = 2 : i64} : (tensor<1x8x64xf32>, tensor<1x4x8xf32>, tensor<8x128x64xf32>, tensor<8x128x64xf32>, tensor<8x64x128xf32>) -> tensor<1x8x64xf32>
  return
}

// -----

func.func @moe_up_rank(%x: tensor<1x8x64xf32>, %l: tensor<1x8x8xf32>, %g: tensor<8x128x64xf32>, %u: tensor<128x64xf32>, %d: tensor<8x64x128xf32>) {
  // expected-error @+1 {{'llm.moe' op up weight must have rank 3 ([experts, ffn, dim]), got 'tensor<128x64xf32>'}}
  %0 = llm.moe %x, %l gate(%g) up(%u) down(%d) {top_k = 2 : i64} : (tensor<1x8x64xf32>, tensor<1x8x8xf32>, tensor<8x128x64xf32>, tensor<128x64xf32>, tensor<8x64x128xf32>) -> tensor<1x8x64xf32>
  return
}

// -----

func.func @moe_down_rank(%x: tensor<1x8x64xf32>, %l: tensor<1x8x8xf32>, %g: tensor<8x128x64xf32>, %u: tensor<8x128x64xf32>, %d: tensor<64x128xf32>) {
  // expected-error @+1 {{'llm.moe' op down weight must have rank 3 ([experts, dim, ffn]), got 'tensor<64x128xf32>'}}
  %0 = llm.moe %x, %l gate(%g) up(%u) down(%d) {top_k = 2 : i64} : (tensor<1x8x64xf32>, tensor<1x8x8xf32>, tensor<8x128x64xf32>, tensor<8x128x64xf32>, tensor<64x128xf32>) -> tensor<1x8x64xf32>
  return
}

// -----

func.func @moe_up_type(%x: tensor<1x8x64xf32>, %l: tensor<1x8x8xf32>, %g: tensor<8x128x64xf32>, %u: tensor<8x128x64xf16>, %d: tensor<8x64x128xf32>) {
  // expected-error @+1 {{'llm.moe' op up weight element type 'f16' does not match the input element type 'f32'}}
  %0 = llm.moe %x, %l gate(%g) up(%u) down(%d) {top_k = 2 : i64} : (tensor<1x8x64xf32>, tensor<1x8x8xf32>, tensor<8x128x64xf32>, tensor<8x128x64xf16>, tensor<8x64x128xf32>) -> tensor<1x8x64xf32>
  return
}

// -----

func.func @moe_down_type(%x: tensor<1x8x64xf32>, %l: tensor<1x8x8xf32>, %g: tensor<8x128x64xf32>, %u: tensor<8x128x64xf32>, %d: tensor<8x64x128xf16>) {
  // expected-error @+1 {{'llm.moe' op down weight element type 'f16' does not match the input element type 'f32'}}
  %0 = llm.moe %x, %l gate(%g) up(%u) down(%d) {top_k = 2 : i64} : (tensor<1x8x64xf32>, tensor<1x8x8xf32>, tensor<8x128x64xf32>, tensor<8x128x64xf32>, tensor<8x64x128xf16>) -> tensor<1x8x64xf32>
  return
}

// -----

func.func @moe_gate_type(%x: tensor<1x8x64xf32>, %l: tensor<1x8x8xf32>, %g: tensor<8x96x64xf32>, %u: tensor<8x128x64xf32>, %d: tensor<8x64x128xf32>) {
  // expected-error @+1 {{'llm.moe' op gate weight type 'tensor<8x96x64xf32>' must equal the up weight type 'tensor<8x128x64xf32>'}}
  %0 = llm.moe %x, %l gate(%g) up(%u) down(%d) {top_k = 2 : i64} : (tensor<1x8x64xf32>, tensor<1x8x8xf32>, tensor<8x96x64xf32>, tensor<8x128x64xf32>, tensor<8x64x128xf32>) -> tensor<1x8x64xf32>
  return
}

// -----

func.func @moe_experts(%x: tensor<1x8x64xf32>, %l: tensor<1x8x6xf32>, %g: tensor<8x128x64xf32>, %u: tensor<8x128x64xf32>, %d: tensor<8x64x128xf32>) {
  // expected-error @+1 {{'llm.moe' op router_logits experts (6) does not match up weight experts (8)}}
  %0 = llm.moe %x, %l gate(%g) up(%u) down(%d) {top_k = 2 : i64} : (tensor<1x8x64xf32>, tensor<1x8x6xf32>, tensor<8x128x64xf32>, tensor<8x128x64xf32>, tensor<8x64x128xf32>) -> tensor<1x8x64xf32>
  return
}

// -----

func.func @moe_down_experts(%x: tensor<1x8x64xf32>, %l: tensor<1x8x8xf32>, %g: tensor<8x128x64xf32>, %u: tensor<8x128x64xf32>, %d: tensor<4x64x128xf32>) {
  // expected-error @+1 {{'llm.moe' op down weight experts (4) does not match up weight experts (8)}}
  %0 = llm.moe %x, %l gate(%g) up(%u) down(%d) {top_k = 2 : i64} : (tensor<1x8x64xf32>, tensor<1x8x8xf32>, tensor<8x128x64xf32>, tensor<8x128x64xf32>, tensor<4x64x128xf32>) -> tensor<1x8x64xf32>
  return
}

// -----

func.func @moe_up_in(%x: tensor<1x8x64xf32>, %l: tensor<1x8x8xf32>, %g: tensor<8x128x32xf32>, %u: tensor<8x128x32xf32>, %d: tensor<8x64x128xf32>) {
  // expected-error @+1 {{'llm.moe' op up weight in_features (32) does not match input feature dimension (64)}}
  %0 = llm.moe %x, %l gate(%g) up(%u) down(%d) {top_k = 2 : i64} : (tensor<1x8x64xf32>, tensor<1x8x8xf32>, tensor<8x128x32xf32>, tensor<8x128x32xf32>, tensor<8x64x128xf32>) -> tensor<1x8x64xf32>
  return
}

// -----

func.func @moe_down_out(%x: tensor<1x8x64xf32>, %l: tensor<1x8x8xf32>, %g: tensor<8x128x64xf32>, %u: tensor<8x128x64xf32>, %d: tensor<8x32x128xf32>) {
  // expected-error @+1 {{'llm.moe' op down weight out_features (32) does not match input feature dimension (64)}}
  %0 = llm.moe %x, %l gate(%g) up(%u) down(%d) {top_k = 2 : i64} : (tensor<1x8x64xf32>, tensor<1x8x8xf32>, tensor<8x128x64xf32>, tensor<8x128x64xf32>, tensor<8x32x128xf32>) -> tensor<1x8x64xf32>
  return
}

// -----

func.func @moe_down_in(%x: tensor<1x8x64xf32>, %l: tensor<1x8x8xf32>, %g: tensor<8x128x64xf32>, %u: tensor<8x128x64xf32>, %d: tensor<8x64x96xf32>) {
  // expected-error @+1 {{'llm.moe' op down weight in_features (96) does not match up weight out_features (128)}}
  %0 = llm.moe %x, %l gate(%g) up(%u) down(%d) {top_k = 2 : i64} : (tensor<1x8x64xf32>, tensor<1x8x8xf32>, tensor<8x128x64xf32>, tensor<8x128x64xf32>, tensor<8x64x96xf32>) -> tensor<1x8x64xf32>
  return
}

// -----

func.func @moe_top_k(%x: tensor<1x8x64xf32>, %l: tensor<1x8x8xf32>, %g: tensor<8x128x64xf32>, %u: tensor<8x128x64xf32>, %d: tensor<8x64x128xf32>) {
  // expected-error @+1 {{'llm.moe' op top_k (9) exceeds the number of experts (8)}}
  %0 = llm.moe %x, %l gate(%g) up(%u) down(%d) {top_k = 9 : i64} : (tensor<1x8x64xf32>, tensor<1x8x8xf32>, tensor<8x128x64xf32>, tensor<8x128x64xf32>, tensor<8x64x128xf32>) -> tensor<1x8x64xf32>
  return
}

// -----

func.func @moe_top_k_zero(%x: tensor<1x8x64xf32>, %l: tensor<1x8x8xf32>, %g: tensor<8x128x64xf32>, %u: tensor<8x128x64xf32>, %d: tensor<8x64x128xf32>) {
  // expected-error @+1 {{'llm.moe' op attribute 'top_k' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = llm.moe %x, %l gate(%g) up(%u) down(%d) {top_k = 0 : i64} : (tensor<1x8x64xf32>, tensor<1x8x8xf32>, tensor<8x128x64xf32>, tensor<8x128x64xf32>, tensor<8x64x128xf32>) -> tensor<1x8x64xf32>
  return
}

// -----

func.func @moe_result(%x: tensor<1x8x64xf32>, %l: tensor<1x8x8xf32>, %g: tensor<8x128x64xf32>, %u: tensor<8x128x64xf32>, %d: tensor<8x64x128xf32>) {
  // expected-error @+1 {{'llm.moe' op result type 'tensor<1x8x32xf32>' is incompatible with the inferred type 'tensor<1x8x64xf32>'}}
  %0 = llm.moe %x, %l gate(%g) up(%u) down(%d) {top_k = 2 : i64} : (tensor<1x8x64xf32>, tensor<1x8x8xf32>, tensor<8x128x64xf32>, tensor<8x128x64xf32>, tensor<8x64x128xf32>) -> tensor<1x8x32xf32>
  return
}

// -----

func.func @transfer_type(%x: tensor<4xf32>) {
  // expected-error @+1 {{'llm.transfer' op requires the same type for all operands and results}}
  %0 = "llm.transfer"(%x) <{from = #llm.device<"cpu">, to = #llm.device<"npu">}> : (tensor<4xf32>) -> tensor<5xf32>
  return
}

// -----

func.func @transfer_attr(%x: tensor<4xf32>) {
  // expected-error @+1 {{Invalid attribute `to` in property conversion: "npu"}}
  %0 = "llm.transfer"(%x) <{from = #llm.device<"cpu">, to = "npu"}> : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @topk_k(%p: tensor<4x8xf32>) {
  // expected-error @+1 {{'llm.topk' op k (9) exceeds the last dimension (8)}}
  %w, %i = llm.topk %p {k = 9 : i64} : tensor<4x8xf32> -> tensor<4x9xf32>, tensor<4x9xi64>
  return
}

// -----

func.func @topk_rank(%p: tensor<f32>) {
  // expected-error @+1 {{'llm.topk' op input must have rank >= 1, got 'tensor<f32>'}}
  %w, %i = llm.topk %p {k = 1 : i64} : tensor<f32> -> tensor<1xf32>, tensor<1xi64>
  return
}

// -----

func.func @topk_values(%p: tensor<4x8xf32>) {
  // expected-error @+1 {{'llm.topk' op values type 'tensor<4x3xf32>' is incompatible with the inferred type 'tensor<4x2xf32>'}}
  %w, %i = llm.topk %p {k = 2 : i64} : tensor<4x8xf32> -> tensor<4x3xf32>, tensor<4x2xi64>
  return
}

// -----

func.func @topk_indices(%p: tensor<4x8xf32>) {
  // expected-error @+1 {{'llm.topk' op indices type 'tensor<3x2xi64>' is incompatible with the inferred type 'tensor<4x2xi64>'}}
  %w, %i = llm.topk %p {k = 2 : i64} : tensor<4x8xf32> -> tensor<4x2xf32>, tensor<3x2xi64>
  return
}

// -----

func.func @topk_zero(%p: tensor<4x8xf32>) {
  // expected-error @+1 {{'llm.topk' op attribute 'k' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %w, %i = llm.topk %p {k = 0 : i64} : tensor<4x8xf32> -> tensor<4x0xf32>, tensor<4x0xi64>
  return
}

// -----

func.func @moe_groups_experts(%x: tensor<2x4xf32>, %l: tensor<2x6xf32>, %u: tensor<6x8x4xf32>, %d: tensor<6x4x8xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'llm.moe' op groups (4) must divide the number of experts (6)}}
  %y = llm.moe %x, %l up(%u) down(%d) {top_k = 4 : i64, groups = 4 : i64}
      : (tensor<2x4xf32>, tensor<2x6xf32>, tensor<6x8x4xf32>, tensor<6x4x8xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @moe_groups_top_k(%x: tensor<2x4xf32>, %l: tensor<2x6xf32>, %u: tensor<6x8x4xf32>, %d: tensor<6x4x8xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'llm.moe' op groups (2) must divide top_k (3)}}
  %y = llm.moe %x, %l up(%u) down(%d) {top_k = 3 : i64, groups = 2 : i64}
      : (tensor<2x4xf32>, tensor<2x6xf32>, tensor<6x8x4xf32>, tensor<6x4x8xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @codebook_with_zero_points(%x: tensor<3x8xf32>, %c: tensor<2x4xi8>, %s: tensor<2x1xf32>, %z: tensor<2x1xi8>, %b: tensor<4x16xf32>, %d: tensor<2x1xi8>) -> tensor<3x2xf32> {
  // expected-error @+1 {{'llm.quantized_linear' op a codebook excludes zero_points}}
  %y = llm.quantized_linear %x, %c, %s zero_points(%z) codebook(%b, %d) bits(4) group(8) : (tensor<3x8xf32>, tensor<2x4xi8>, tensor<2x1xf32>, tensor<2x1xi8>, tensor<4x16xf32>, tensor<2x1xi8>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

func.func @codebook_shape(%x: tensor<3x8xf32>, %c: tensor<2x4xi8>, %s: tensor<2x1xf32>, %b: tensor<4x8xf32>, %d: tensor<2x1xi8>) -> tensor<3x2xf32> {
  // expected-error @+1 {{'llm.quantized_linear' op codebook must be [datatypes, 2^bits = 16], got 'tensor<4x8xf32>'}}
  %y = llm.quantized_linear %x, %c, %s codebook(%b, %d) bits(4) group(8) : (tensor<3x8xf32>, tensor<2x4xi8>, tensor<2x1xf32>, tensor<4x8xf32>, tensor<2x1xi8>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

func.func @codebook_datatypes_shape(%x: tensor<3x8xf32>, %c: tensor<2x4xi8>, %s: tensor<2x1xf32>, %b: tensor<4x16xf32>, %d: tensor<2x2xi8>) -> tensor<3x2xf32> {
  // expected-error @+1 {{'llm.quantized_linear' op datatypes must have the shape of the scales [2, 1], got 'tensor<2x2xi8>'}}
  %y = llm.quantized_linear %x, %c, %s codebook(%b, %d) bits(4) group(8) : (tensor<3x8xf32>, tensor<2x4xi8>, tensor<2x1xf32>, tensor<4x16xf32>, tensor<2x2xi8>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

func.func @quantized_activation_bits(%x: tensor<3x8xf32>, %c: tensor<2x4xi8>, %s: tensor<2x1xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{'llm.quantized_linear' op activations must be quantized to 8 bits, got 4}}
  %y = llm.quantized_linear %x, %c, %s bits(4) group(8) activations(4) : (tensor<3x8xf32>, tensor<2x4xi8>, tensor<2x1xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

func.func @quantized_bits(%x: tensor<3x8xf32>, %c: tensor<2x5xi8>, %s: tensor<2x1xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{'llm.quantized_linear' op bits must be 2, 3, 4 or 8, got 5}}
  %y = llm.quantized_linear %x, %c, %s bits(5) group(8) : (tensor<3x8xf32>, tensor<2x5xi8>, tensor<2x1xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// 3-bit codes come 8 to 3 bytes: a row of 4 bytes is not whole codes.
func.func @quantized_three_bit_rows(%x: tensor<3x8xf32>, %c: tensor<2x4xi8>, %s: tensor<2x1xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{do not hold whole 3-bit codes (rows of a multiple of 3 bytes)}}
  %y = llm.quantized_linear %x, %c, %s bits(3) group(8) : (tensor<3x8xf32>, tensor<2x4xi8>, tensor<2x1xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

func.func @quantized_k(%x: tensor<3x6xf32>, %c: tensor<2x4xi8>, %s: tensor<2x1xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{'llm.quantized_linear' op input feature dimension (6) does not match in_features of the codes (8)}}
  %y = llm.quantized_linear %x, %c, %s bits(4) group(8) : (tensor<3x6xf32>, tensor<2x4xi8>, tensor<2x1xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

func.func @quantized_group(%x: tensor<3x8xf32>, %c: tensor<2x4xi8>, %s: tensor<2x1xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{'llm.quantized_linear' op group_size 3 does not divide in_features 8}}
  %y = llm.quantized_linear %x, %c, %s bits(4) group(3) : (tensor<3x8xf32>, tensor<2x4xi8>, tensor<2x1xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

func.func @quantized_scales(%x: tensor<3x8xf32>, %c: tensor<2x4xi8>, %s: tensor<2x1xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{'llm.quantized_linear' op scales must be [2, 2] (out_features x in_features / group_size), got 'tensor<2x1xf32>'}}
  %y = llm.quantized_linear %x, %c, %s bits(4) group(4) : (tensor<3x8xf32>, tensor<2x4xi8>, tensor<2x1xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

func.func @quantized_zeros(%x: tensor<3x8xf32>, %c: tensor<2x4xi8>, %s: tensor<2x1xf32>, %z: tensor<2x2xi8>) -> tensor<3x2xf32> {
  // expected-error @+1 {{'llm.quantized_linear' op zero_points must have the shape of the scales [2, 1], got 'tensor<2x2xi8>'}}
  %y = llm.quantized_linear %x, %c, %s zero_points(%z) bits(4) group(8) : (tensor<3x8xf32>, tensor<2x4xi8>, tensor<2x1xf32>, tensor<2x2xi8>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

func.func @quantized_result(%x: tensor<3x8xf32>, %c: tensor<2x4xi8>, %s: tensor<2x1xf32>) -> tensor<3x5xf32> {
  // expected-error @+1 {{'llm.quantized_linear' op result type 'tensor<3x5xf32>' is incompatible with the inferred type 'tensor<3x2xf32>'}}
  %y = llm.quantized_linear %x, %c, %s bits(4) group(8) : (tensor<3x8xf32>, tensor<2x4xi8>, tensor<2x1xf32>) -> tensor<3x5xf32>
  return %y : tensor<3x5xf32>
}

// -----

func.func @kv_bits(%k: tensor<1x2x4x16xf32>) {
  // expected-error @+1 {{'llm.kv_quantize' op bits must be 8 or 4, got 2}}
  %c, %s = llm.kv_quantize %k bits(2) : tensor<1x2x4x16xf32> -> tensor<1x2x4x4xi8>, tensor<1x2x4xf32>
  return
}

// -----

func.func @kv_code_bytes(%k: tensor<1x2x4x16xf32>) {
  // expected-error @+1 {{'llm.kv_quantize' op codes must have 8 bytes per row, got 'tensor<1x2x4x16xi8>'}}
  %c, %s = llm.kv_quantize %k bits(4) : tensor<1x2x4x16xf32> -> tensor<1x2x4x16xi8>, tensor<1x2x4xf32>
  return
}

// -----

func.func @kv_scales(%c: tensor<1x2x4x16xi8>, %s: tensor<1x2x5xf32>) {
  // expected-error @+1 {{'llm.kv_dequantize' op dimension 2 differs: 'tensor<1x2x4x16xf32>' and 'tensor<1x2x5xf32>'}}
  %r = llm.kv_dequantize %c, %s bits(8) : (tensor<1x2x4x16xi8>, tensor<1x2x5xf32>) -> tensor<1x2x4x16xf32>
  return
}

// -----

func.func @kv_rank(%c: tensor<2x4x16xi8>, %s: tensor<2x4xf32>) {
  // expected-error @+1 {{'llm.kv_dequantize' op expects rows [B, H, T, D], codes [B, H, T, D * bits / 8] and scales [B, H, T]}}
  %r = llm.kv_dequantize %c, %s bits(8) : (tensor<2x4x16xi8>, tensor<2x4xf32>) -> tensor<2x4x16xf32>
  return
}

// -----

func.func @kv_odd(%k: tensor<1x2x4x15xf32>) {
  // expected-error @+1 {{'llm.kv_quantize' op head dimension 15 must be static and fill bytes of 4-bit codes}}
  %c, %s = llm.kv_quantize %k bits(4) : tensor<1x2x4x15xf32> -> tensor<1x2x4x7xi8>, tensor<1x2x4xf32>
  return
}

// -----

func.func @device_call_type(%x: tensor<4x64xf16>, %init: tensor<4x8xf16>) {
  // expected-error @+1 {{'llm.device_call' op device programs take and produce f32 tensors of rank 1 or more, got 'tensor<4x64xf16>'}}
  %y = llm.device_call #llm.device<"npu"> program 0(%x : tensor<4x64xf16>) outs(%init : tensor<4x8xf16>) -> tensor<4x8xf16>
  return
}

// -----

func.func @device_call_program(%x: tensor<4x64xf32>, %init: tensor<4x8xf32>) {
  // expected-error @+1 {{'llm.device_call' op program index -1 is negative}}
  %y = llm.device_call #llm.device<"npu"> program -1(%x : tensor<4x64xf32>) outs(%init : tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @device_call_no_result(%x: tensor<4x64xf32>) {
  // expected-error @+1 {{'llm.device_call' op needs at least one input and one result}}
  "llm.device_call"(%x) <{device = #llm.device<"npu">, program = 0 : i64, operandSegmentSizes = array<i32: 1, 0>}> : (tensor<4x64xf32>) -> ()
  return
}

// -----

func.func @device_call_buffers(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'llm.device_call' op takes at most 8 inputs and results together, got 9}}
  %y = llm.device_call #llm.device<"npu"> program 0(%x, %x, %x, %x, %x, %x, %x, %x : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) outs(%x : tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @device_call_results(%x: tensor<4x64xf32>, %init: tensor<4x8xf32>) {
  // expected-error @+1 {{'llm.device_call' op result types differ from the inits'}}
  %y = llm.device_call #llm.device<"npu"> program 0(%x : tensor<4x64xf32>) outs(%init : tensor<4x8xf32>) -> tensor<4x9xf32>
  return
}

// -----

// expected-error @+1 {{'llm.device_programs' must be an array of dictionaries with a #llm.device 'device' and the program's 'bytes', on a module}}
module attributes {llm.device_programs = [{device = #llm.device<"npu">}]} {
}
