// Every llm op parses, verifies, prints and parses again, in the custom and
// in the generic form.
// RUN: llm-opt %s | llm-opt | FileCheck %s
// RUN: llm-opt %s --mlir-print-op-generic | llm-opt | FileCheck %s

// CHECK-LABEL: func.func @embedding
func.func @embedding(%table: tensor<256x64xf32>, %ids: tensor<?x?xi64>) -> tensor<?x?x64xf32> {
  // CHECK: llm.embedding %{{.*}}, %{{.*}} : (tensor<256x64xf32>, tensor<?x?xi64>) -> tensor<?x?x64xf32>
  %0 = llm.embedding %table, %ids : (tensor<256x64xf32>, tensor<?x?xi64>) -> tensor<?x?x64xf32>
  return %0 : tensor<?x?x64xf32>
}

// CHECK-LABEL: func.func @embedding_i32_ids
func.func @embedding_i32_ids(%table: tensor<256x64xbf16>, %ids: tensor<5xi32>) -> tensor<5x64xbf16> {
  // CHECK: llm.embedding {{.*}} -> tensor<5x64xbf16>
  %0 = llm.embedding %table, %ids : (tensor<256x64xbf16>, tensor<5xi32>) -> tensor<5x64xbf16>
  return %0 : tensor<5x64xbf16>
}

// CHECK-LABEL: func.func @linear
func.func @linear(%x: tensor<1x8x64xf32>, %w: tensor<176x64xf32>, %b: tensor<176xf32>)
    -> (tensor<1x8x176xf32>, tensor<1x8x176xf32>) {
  // CHECK: llm.linear %{{.*}}, %{{.*}} : (tensor<1x8x64xf32>, tensor<176x64xf32>) -> tensor<1x8x176xf32>
  %0 = llm.linear %x, %w : (tensor<1x8x64xf32>, tensor<176x64xf32>) -> tensor<1x8x176xf32>
  // CHECK: llm.linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<1x8x64xf32>, tensor<176x64xf32>, tensor<176xf32>) -> tensor<1x8x176xf32>
  %1 = llm.linear %x, %w, %b : (tensor<1x8x64xf32>, tensor<176x64xf32>, tensor<176xf32>) -> tensor<1x8x176xf32>
  return %0, %1 : tensor<1x8x176xf32>, tensor<1x8x176xf32>
}

// CHECK-LABEL: func.func @kv_codes
func.func @kv_codes(%k: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  // CHECK: llm.kv_quantize %{{.*}} bits(4) : tensor<1x2x?x16xf32> -> tensor<1x2x?x8xi8>, tensor<1x2x?xf32>
  %c, %s = llm.kv_quantize %k bits(4) : tensor<1x2x?x16xf32> -> tensor<1x2x?x8xi8>, tensor<1x2x?xf32>
  // CHECK: llm.kv_dequantize %{{.*}}, %{{.*}} bits(4) : (tensor<1x2x?x8xi8>, tensor<1x2x?xf32>) -> tensor<1x2x?x16xf32>
  %r = llm.kv_dequantize %c, %s bits(4) : (tensor<1x2x?x8xi8>, tensor<1x2x?xf32>) -> tensor<1x2x?x16xf32>
  return %r : tensor<1x2x?x16xf32>
}

// CHECK-LABEL: func.func @quantized_linear
func.func @quantized_linear(%x: tensor<1x8x64xf32>, %c: tensor<176x32xi8>, %s: tensor<176x2xf32>,
                            %z: tensor<176x2xi8>, %b: tensor<176xf32>)
    -> (tensor<1x8x176xf32>, tensor<?x176xf32>) {
  // CHECK: llm.quantized_linear %{{.*}}, %{{.*}}, %{{.*}} bits(4) group(32) : (tensor<1x8x64xf32>, tensor<176x32xi8>, tensor<176x2xf32>) -> tensor<1x8x176xf32>
  %0 = llm.quantized_linear %x, %c, %s bits(4) group(32) : (tensor<1x8x64xf32>, tensor<176x32xi8>, tensor<176x2xf32>) -> tensor<1x8x176xf32>
  %x2 = tensor.collapse_shape %x [[0, 1], [2]] : tensor<1x8x64xf32> into tensor<8x64xf32>
  %xd = tensor.cast %x2 : tensor<8x64xf32> to tensor<?x64xf32>
  // CHECK: llm.quantized_linear %{{.*}}, %{{.*}}, %{{.*}} zero_points(%{{.*}}) bias(%{{.*}}) bits(4) group(32) activations(8) : (tensor<?x64xf32>, tensor<176x32xi8>, tensor<176x2xf32>, tensor<176x2xi8>, tensor<176xf32>) -> tensor<?x176xf32>
  %1 = llm.quantized_linear %xd, %c, %s zero_points(%z) bias(%b) bits(4) group(32) activations(8) : (tensor<?x64xf32>, tensor<176x32xi8>, tensor<176x2xf32>, tensor<176x2xi8>, tensor<176xf32>) -> tensor<?x176xf32>
  return %0, %1 : tensor<1x8x176xf32>, tensor<?x176xf32>
}

// CHECK-LABEL: func.func @quantized_linear_codebook
func.func @quantized_linear_codebook(%x: tensor<8x64xf32>, %c: tensor<176x32xi8>, %s: tensor<176x2xf32>,
                                     %b: tensor<4x16xf32>, %d: tensor<176x2xi8>) -> tensor<8x176xf32> {
  // CHECK: llm.quantized_linear %{{.*}}, %{{.*}}, %{{.*}} codebook(%{{.*}}, %{{.*}}) bits(4) group(32) activations(8) : (tensor<8x64xf32>, tensor<176x32xi8>, tensor<176x2xf32>, tensor<4x16xf32>, tensor<176x2xi8>) -> tensor<8x176xf32>
  %0 = llm.quantized_linear %x, %c, %s codebook(%b, %d) bits(4) group(32) activations(8) : (tensor<8x64xf32>, tensor<176x32xi8>, tensor<176x2xf32>, tensor<4x16xf32>, tensor<176x2xi8>) -> tensor<8x176xf32>
  return %0 : tensor<8x176xf32>
}

// 3-bit codes: 64 inputs in 24 bytes per row; BitMoD's FP3 grids of 8.
// CHECK-LABEL: func.func @quantized_linear_three_bit
func.func @quantized_linear_three_bit(%x: tensor<8x64xf32>, %c: tensor<176x24xi8>, %s: tensor<176x2xf32>,
                                      %b: tensor<4x8xf32>, %d: tensor<176x2xi8>) -> tensor<8x176xf32> {
  // CHECK: llm.quantized_linear %{{.*}}, %{{.*}}, %{{.*}} codebook(%{{.*}}, %{{.*}}) bits(3) group(32) activations(8) : (tensor<8x64xf32>, tensor<176x24xi8>, tensor<176x2xf32>, tensor<4x8xf32>, tensor<176x2xi8>) -> tensor<8x176xf32>
  %0 = llm.quantized_linear %x, %c, %s codebook(%b, %d) bits(3) group(32) activations(8) : (tensor<8x64xf32>, tensor<176x24xi8>, tensor<176x2xf32>, tensor<4x8xf32>, tensor<176x2xi8>) -> tensor<8x176xf32>
  return %0 : tensor<8x176xf32>
}

// A dynamic declared result dimension is compatible with a static inferred one.
// CHECK-LABEL: func.func @linear_dynamic
func.func @linear_dynamic(%x: tensor<?x?x64xf32>, %w: tensor<176x64xf32>) -> tensor<?x?x?xf32> {
  // CHECK: llm.linear {{.*}} -> tensor<?x?x?xf32>
  %0 = llm.linear %x, %w : (tensor<?x?x64xf32>, tensor<176x64xf32>) -> tensor<?x?x?xf32>
  return %0 : tensor<?x?x?xf32>
}

// CHECK-LABEL: func.func @matmul
func.func @matmul(%q: tensor<2x4x8x16xf32>, %kt: tensor<4x16x8xf32>) -> tensor<2x4x8x8xf32> {
  // CHECK: llm.matmul %{{.*}}, %{{.*}} : (tensor<2x4x8x16xf32>, tensor<4x16x8xf32>) -> tensor<2x4x8x8xf32>
  %0 = llm.matmul %q, %kt : (tensor<2x4x8x16xf32>, tensor<4x16x8xf32>) -> tensor<2x4x8x8xf32>
  return %0 : tensor<2x4x8x8xf32>
}

// CHECK-LABEL: func.func @norms
func.func @norms(%x: tensor<1x8x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>)
    -> (tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>) {
  // CHECK: llm.rms_norm %{{.*}}, %{{.*}} {epsilon = 9.99999997E-7 : f32} : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  %0 = llm.rms_norm %x, %g {epsilon = 1.0e-06 : f32} : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  // CHECK: llm.rms_norm %{{.*}} {epsilon = 0.000000e+00 : f32} : (tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  %1 = llm.rms_norm %x {epsilon = 0.0 : f32} : (tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  // CHECK: llm.layer_norm %{{.*}} weight %{{.*}} bias %{{.*}} {epsilon = 9.99999974E-6 : f32}
  %2 = llm.layer_norm %x weight %g bias %b {epsilon = 1.0e-05 : f32} : (tensor<1x8x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  // CHECK: llm.layer_norm %{{.*}} bias %{{.*}} {epsilon
  %3 = llm.layer_norm %x bias %b {epsilon = 1.0e-05 : f32} : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  return %0, %1, %2, %3 : tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>
}

// CHECK-LABEL: func.func @rope
func.func @rope(%q: tensor<1x4x8x16xf32>, %cos: tensor<8x16xf32>, %sin: tensor<8x16xf32>,
                %pcos: tensor<?x1x?x8xf32>, %psin: tensor<?x1x?x8xf32>)
    -> (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) {
  // CHECK: llm.rope %{{.*}}, %{{.*}}, %{{.*}} : (tensor<1x4x8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<1x4x8x16xf32>
  %0 = llm.rope %q, %cos, %sin : (tensor<1x4x8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<1x4x8x16xf32>
  // Partial, interleaved rotary with per-row positions.
  // CHECK: llm.rope %{{.*}}, %{{.*}}, %{{.*}} {interleaved} : (tensor<1x4x8x16xf32>, tensor<?x1x?x8xf32>, tensor<?x1x?x8xf32>) -> tensor<1x4x8x16xf32>
  %1 = llm.rope %q, %pcos, %psin {interleaved} : (tensor<1x4x8x16xf32>, tensor<?x1x?x8xf32>, tensor<?x1x?x8xf32>) -> tensor<1x4x8x16xf32>
  return %0, %1 : tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>
}

// CHECK-LABEL: func.func @attention
func.func @attention(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>,
                     %m: tensor<1x1x8x8xf32>) -> (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) {
  // CHECK: llm.attention %{{.*}}, %{{.*}}, %{{.*}} {causal, num_heads = 4 : i64, num_kv_heads = 2 : i64}
  %0 = llm.attention %q, %k, %v {causal, num_heads = 4 : i64, num_kv_heads = 2 : i64}
      : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32>
  // CHECK: llm.attention %{{.*}}, %{{.*}}, %{{.*}} mask(%{{.*}}) {causal, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 1.250000e-01 : f32, sliding_window = 4 : i64}
  %1 = llm.attention %q, %k, %v mask(%m)
      {causal, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 0.125 : f32, sliding_window = 4 : i64}
      : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x1x8x8xf32>) -> tensor<1x4x8x16xf32>
  return %0, %1 : tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>
}

// CHECK-LABEL: func.func @attention_decode
func.func @attention_decode(%q: tensor<?x4x1x16xf32>, %k: tensor<?x2x1x16xf32>, %v: tensor<?x2x1x16xf32>,
                            %pk: tensor<?x2x?x16xf32>, %pv: tensor<?x2x?x16xf32>, %m: tensor<?x1x1x?xf32>)
    -> (tensor<?x4x1x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>) {
  // CHECK: %{{.*}}, %{{.*}}:2 = llm.attention %{{.*}}, %{{.*}}, %{{.*}} mask(%{{.*}}) past(%{{.*}}, %{{.*}}) {causal, num_heads = 4 : i64, num_kv_heads = 2 : i64}
  // CHECK-SAME: -> (tensor<?x4x1x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>)
  %o, %pk2, %pv2 = llm.attention %q, %k, %v mask(%m) past(%pk, %pv) {causal, num_heads = 4 : i64, num_kv_heads = 2 : i64}
      : (tensor<?x4x1x16xf32>, tensor<?x2x1x16xf32>, tensor<?x2x1x16xf32>, tensor<?x1x1x?xf32>,
         tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>)
      -> (tensor<?x4x1x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>)
  return %o, %pk2, %pv2 : tensor<?x4x1x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>
}

// Multi-query attention with a value head size different from the key's.
// CHECK-LABEL: func.func @attention_mqa
func.func @attention_mqa(%q: tensor<2x8x5x16xf16>, %k: tensor<2x1x7x16xf16>, %v: tensor<2x1x7x32xf16>)
    -> tensor<2x8x5x32xf16> {
  // CHECK: llm.attention {{.*}} {num_heads = 8 : i64, num_kv_heads = 1 : i64}
  %0 = llm.attention %q, %k, %v {num_heads = 8 : i64, num_kv_heads = 1 : i64}
      : (tensor<2x8x5x16xf16>, tensor<2x1x7x16xf16>, tensor<2x1x7x32xf16>) -> tensor<2x8x5x32xf16>
  return %0 : tensor<2x8x5x32xf16>
}

// CHECK-LABEL: func.func @activations
func.func @activations(%x: tensor<1x8x64xf32>) -> (tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>) {
  // CHECK: llm.softmax %{{.*}} : tensor<1x8x64xf32>
  %0 = llm.softmax %x : tensor<1x8x64xf32>
  // CHECK: llm.softmax %{{.*}} axis = 1 : tensor<1x8x64xf32>
  %1 = llm.softmax %x axis = 1 : tensor<1x8x64xf32>
  // CHECK: llm.silu %{{.*}} : tensor<1x8x64xf32>
  %2 = llm.silu %x : tensor<1x8x64xf32>
  // CHECK: llm.gelu %{{.*}} : tensor<1x8x64xf32>
  %3 = llm.gelu %x : tensor<1x8x64xf32>
  // CHECK: llm.gelu %{{.*}} approximate = tanh : tensor<1x8x64xf32>
  %4 = llm.gelu %x approximate = tanh : tensor<1x8x64xf32>
  return %0, %1, %2, %3, %4 : tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>
}

// CHECK-LABEL: func.func @moe
func.func @moe(%x: tensor<1x8x64xf32>, %logits: tensor<1x8x8xf32>, %wg: tensor<8x128x64xf32>,
               %wu: tensor<8x128x64xf32>, %wd: tensor<8x64x128xf32>) -> (tensor<1x8x64xf32>, tensor<1x8x64xf32>) {
  // CHECK: llm.moe %{{.*}}, %{{.*}} gate(%{{.*}}) up(%{{.*}}) down(%{{.*}}) {normalize_top_k, top_k = 2 : i64}
  %0 = llm.moe %x, %logits gate(%wg) up(%wu) down(%wd) {top_k = 2 : i64, normalize_top_k}
      : (tensor<1x8x64xf32>, tensor<1x8x8xf32>, tensor<8x128x64xf32>, tensor<8x128x64xf32>, tensor<8x64x128xf32>) -> tensor<1x8x64xf32>
  // CHECK: llm.moe %{{.*}}, %{{.*}} up(%{{.*}}) down(%{{.*}}) activation = gelu {top_k = 1 : i64}
  %1 = llm.moe %x, %logits up(%wu) down(%wd) activation = gelu {top_k = 1 : i64}
      : (tensor<1x8x64xf32>, tensor<1x8x8xf32>, tensor<8x128x64xf32>, tensor<8x64x128xf32>) -> tensor<1x8x64xf32>
  return %0, %1 : tensor<1x8x64xf32>, tensor<1x8x64xf32>
}

// CHECK-LABEL: func.func @placement
func.func @placement(%x: tensor<1x8x64xf32>, %w: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  // CHECK: llm.linear {{.*}} {llm.device = #llm.device<"npu">}
  %0 = llm.linear %x, %w {llm.device = #llm.device<"npu">} : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  // CHECK: llm.transfer %{{.*}} : tensor<1x8x64xf32> from #llm.device<"npu"> to #llm.device<"pim", 1>
  %1 = llm.transfer %0 : tensor<1x8x64xf32> from #llm.device<"npu"> to #llm.device<"pim", 1>
  return %1 : tensor<1x8x64xf32>
}

// CHECK-LABEL: func.func @topk
func.func @topk(%p: tensor<?x8xf32>) -> (tensor<?x2xf32>, tensor<?x2xi64>) {
  // CHECK: llm.topk %{{.*}} {k = 2 : i64} : tensor<?x8xf32> -> tensor<?x2xf32>, tensor<?x2xi64>
  %w, %i = llm.topk %p {k = 2 : i64} : tensor<?x8xf32> -> tensor<?x2xf32>, tensor<?x2xi64>
  return %w, %i : tensor<?x2xf32>, tensor<?x2xi64>
}

// CHECK-LABEL: func.func @device_call
func.func @device_call(%x: tensor<?x4x64xf32>, %r: tensor<?x4x176xf32>, %init: tensor<?x4x176xf32>, %init2: tensor<?x4x64xf32>) -> (tensor<?x4x176xf32>, tensor<?x4x64xf32>) {
  // CHECK: llm.device_call #llm.device<"npu"> program 3(%{{.*}}, %{{.*}} : tensor<?x4x64xf32>, tensor<?x4x176xf32>) outs(%{{.*}}, %{{.*}} : tensor<?x4x176xf32>, tensor<?x4x64xf32>) -> tensor<?x4x176xf32>, tensor<?x4x64xf32>
  %y:2 = llm.device_call #llm.device<"npu"> program 3(%x, %r : tensor<?x4x64xf32>, tensor<?x4x176xf32>) outs(%init, %init2 : tensor<?x4x176xf32>, tensor<?x4x64xf32>) -> tensor<?x4x176xf32>, tensor<?x4x64xf32>
  return %y#0, %y#1 : tensor<?x4x176xf32>, tensor<?x4x64xf32>
}
