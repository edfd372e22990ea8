// One Llama decoder layer (the shapes of shared/models/llama_tiny: d 64,
// 4 query / 2 KV heads of 16, SwiGLU 176, vocab 256) written in the llm
// dialect the way an importer sees an exporter's graph: a zero bias, an
// output projection as a matmul by a transposed weight, and the causal mask
// as a constant. `llm-opt --llm-canonicalize` turns those idioms into the
// ops and flags that name them (scripts/demo.sh shows it).
//
// Weights are function arguments so that the file stays readable; imported
// models carry them as dense_resource constants.

func.func @llama_layer(
    %ids: tensor<1x8xi64>, %embed: tensor<256x64xf32>,
    %attn_norm: tensor<64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<32x64xf32>,
    %wv: tensor<32x64xf32>, %wo: tensor<64x64xf32>,
    %cos: tensor<8x16xf32>, %sin: tensor<8x16xf32>,
    %ffn_norm: tensor<64xf32>, %w_gate: tensor<176x64xf32>, %w_up: tensor<176x64xf32>,
    %w_down: tensor<64x176xf32>, %final_norm: tensor<64xf32>, %lm_head: tensor<256x64xf32>)
    -> tensor<1x8x256xf32> {
  %h = llm.embedding %embed, %ids : (tensor<256x64xf32>, tensor<1x8xi64>) -> tensor<1x8x64xf32>

  // Attention block.
  %n1 = llm.rms_norm %h, %attn_norm {epsilon = 1.0e-06 : f32}
      : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  %zero = arith.constant dense<0.0> : tensor<64xf32>
  %q = llm.linear %n1, %wq, %zero : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  %k = llm.linear %n1, %wk : (tensor<1x8x64xf32>, tensor<32x64xf32>) -> tensor<1x8x32xf32>
  %v = llm.linear %n1, %wv : (tensor<1x8x64xf32>, tensor<32x64xf32>) -> tensor<1x8x32xf32>
  %q4 = tensor.expand_shape %q [[0], [1], [2, 3]] output_shape [1, 8, 4, 16]
      : tensor<1x8x64xf32> into tensor<1x8x4x16xf32>
  %k4 = tensor.expand_shape %k [[0], [1], [2, 3]] output_shape [1, 8, 2, 16]
      : tensor<1x8x32xf32> into tensor<1x8x2x16xf32>
  %v4 = tensor.expand_shape %v [[0], [1], [2, 3]] output_shape [1, 8, 2, 16]
      : tensor<1x8x32xf32> into tensor<1x8x2x16xf32>
  %qe = tensor.empty() : tensor<1x4x8x16xf32>
  %kve = tensor.empty() : tensor<1x2x8x16xf32>
  %qh = linalg.transpose ins(%q4 : tensor<1x8x4x16xf32>) outs(%qe : tensor<1x4x8x16xf32>) permutation = [0, 2, 1, 3]
  %kh = linalg.transpose ins(%k4 : tensor<1x8x2x16xf32>) outs(%kve : tensor<1x2x8x16xf32>) permutation = [0, 2, 1, 3]
  %vh = linalg.transpose ins(%v4 : tensor<1x8x2x16xf32>) outs(%kve : tensor<1x2x8x16xf32>) permutation = [0, 2, 1, 3]
  %qr = llm.rope %qh, %cos, %sin : (tensor<1x4x8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<1x4x8x16xf32>
  %kr = llm.rope %kh, %cos, %sin : (tensor<1x2x8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<1x2x8x16xf32>
  %mask = arith.constant dense<[[0.0, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38],
                                  [0.0, 0.0, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38],
                                  [0.0, 0.0, 0.0, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38],
                                  [0.0, 0.0, 0.0, 0.0, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38],
                                  [0.0, 0.0, 0.0, 0.0, 0.0, -3.40282347E+38, -3.40282347E+38, -3.40282347E+38],
                                  [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -3.40282347E+38, -3.40282347E+38],
                                  [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -3.40282347E+38],
                                  [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<8x8xf32>
  %att = llm.attention %qr, %kr, %vh mask(%mask) {num_heads = 4 : i64, num_kv_heads = 2 : i64}
      : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<8x8xf32>) -> tensor<1x4x8x16xf32>
  %ae = tensor.empty() : tensor<1x8x4x16xf32>
  %at = linalg.transpose ins(%att : tensor<1x4x8x16xf32>) outs(%ae : tensor<1x8x4x16xf32>) permutation = [0, 2, 1, 3]
  %a = tensor.collapse_shape %at [[0], [1], [2, 3]] : tensor<1x8x4x16xf32> into tensor<1x8x64xf32>
  %woe = tensor.empty() : tensor<64x64xf32>
  %wo_t = linalg.transpose ins(%wo : tensor<64x64xf32>) outs(%woe : tensor<64x64xf32>) permutation = [1, 0]
  %o = llm.matmul %a, %wo_t : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  %r1 = arith.addf %h, %o : tensor<1x8x64xf32>

  // SwiGLU feed-forward block.
  %n2 = llm.rms_norm %r1, %ffn_norm {epsilon = 1.0e-06 : f32}
      : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  %g = llm.linear %n2, %w_gate : (tensor<1x8x64xf32>, tensor<176x64xf32>) -> tensor<1x8x176xf32>
  %u = llm.linear %n2, %w_up : (tensor<1x8x64xf32>, tensor<176x64xf32>) -> tensor<1x8x176xf32>
  %s = llm.silu %g : tensor<1x8x176xf32>
  %gu = arith.mulf %s, %u : tensor<1x8x176xf32>
  %d = llm.linear %gu, %w_down : (tensor<1x8x176xf32>, tensor<64x176xf32>) -> tensor<1x8x64xf32>
  %r2 = arith.addf %r1, %d : tensor<1x8x64xf32>

  %n3 = llm.rms_norm %r2, %final_norm {epsilon = 1.0e-06 : f32}
      : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  %logits = llm.linear %n3, %lm_head : (tensor<1x8x64xf32>, tensor<256x64xf32>) -> tensor<1x8x256xf32>
  return %logits : tensor<1x8x256xf32>
}
