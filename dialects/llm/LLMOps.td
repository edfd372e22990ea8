//===- LLMOps.td - llm operations --------------------------*- tablegen -*-===//
//
// Conventions shared by all ops (docs/dialect.md explains the choices):
//  - ranked tensors, value semantics, floating-point activations;
//  - weights follow PyTorch's [out_features, in_features] layout;
//  - attention tensors are [batch, heads, sequence, head_dim];
//  - every op checks its shapes in a verifier, and builders infer the result
//    type from the operands where the shapes determine it.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_DIALECTS_LLM_LLMOPS_TD
#define LLMC_DIALECTS_LLM_LLMOPS_TD

include "dialects/llm/LLMAttrs.td"
include "dialects/llm/CostInterface.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def LLM_FloatTensor : RankedTensorOf<[AnyFloat]>;
def LLM_IndexTensor : RankedTensorOf<[AnySignlessInteger]>;

//===----------------------------------------------------------------------===//
// Embedding and projections
//===----------------------------------------------------------------------===//

def LLM_EmbeddingOp : LLM_Op<"embedding", [Pure, DeclareOpInterfaceMethods<LLM_CostOpInterface>]> {
  let summary = "Token embedding lookup";
  let description = [{
    Gathers rows of an embedding `table` of shape `[vocab, dim]` for integer
    token `ids` of any shape `[...]`, giving `[..., dim]`:
    `result[i..., d] = table[ids[i...], d]`. An id outside `[0, vocab)` is
    undefined behaviour at run time; lowerings clamp it.

    ```mlir
    %h = llm.embedding %table, %ids
        : (tensor<256x64xf32>, tensor<1x8xi64>) -> tensor<1x8x64xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$table, LLM_IndexTensor:$ids);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = "$table `,` $ids attr-dict `:` functional-type(operands, results)";
  let builders = [OpBuilder<(ins "::mlir::Value":$table, "::mlir::Value":$ids)>];
  let hasVerifier = 1;
}

def LLM_LinearOp : LLM_Op<"linear", [Pure, DeclareOpInterfaceMethods<LLM_CostOpInterface>]> {
  let summary = "Fully connected layer: x·Wᵀ + bias";
  let description = [{
    Computes `result[..., n] = Σ_k input[..., k] · weight[n, k] + bias[n]`.
    The weight has PyTorch's `[out_features, in_features]` layout (ONNX
    `Gemm` with `transB = 1`); the bias of shape `[out_features]` is
    optional. Leading dimensions of the input are batch dimensions and pass
    through unchanged.

    Canonicalization drops a bias that is a constant zero.

    ```mlir
    %y = llm.linear %x, %w, %b
        : (tensor<1x8x64xf32>, tensor<176x64xf32>, tensor<176xf32>) -> tensor<1x8x176xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, LLM_FloatTensor:$weight,
                       Optional<LLM_FloatTensor>:$bias);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let builders = [OpBuilder<(ins "::mlir::Value":$input, "::mlir::Value":$weight,
                                 CArg<"::mlir::Value", "{}">:$bias)>];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

def LLM_MatmulOp : LLM_Op<"matmul", [Pure, DeclareOpInterfaceMethods<LLM_CostOpInterface>]> {
  let summary = "Batched matrix product with broadcast batch dimensions";
  let description = [{
    Computes `result[b..., m, n] = Σ_k lhs[b..., m, k] · rhs[b..., k, n]` for
    operands of rank ≥ 2. The batch dimensions (all but the last two) are
    broadcast against each other with NumPy rules, as in ONNX `MatMul`; use
    this op for products of two activations (for example QKᵀ written out by
    an exporter) and `llm.linear` for products with a weight.

    Canonicalization rewrites `llm.matmul %x, (linalg.transpose %w)` with a
    two-dimensional `%w` into `llm.linear %x, %w`.

    ```mlir
    %s = llm.matmul %q, %kt
        : (tensor<1x4x8x16xf32>, tensor<1x4x16x8xf32>) -> tensor<1x4x8x8xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$lhs, LLM_FloatTensor:$rhs);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let builders = [OpBuilder<(ins "::mlir::Value":$lhs, "::mlir::Value":$rhs)>];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

def LLM_QuantizedLinearOp : LLM_Op<"quantized_linear", [Pure, AttrSizedOperandSegments, DeclareOpInterfaceMethods<LLM_CostOpInterface>]> {
  let summary = "Fully connected layer with group-wise quantized weights";
  let description = [{
    `llm.linear` whose weight `W[N, K]` is stored as `bits`-bit unsigned
    integer codes with one scale (and zero point) per group of `group_size`
    consecutive input features of an output row:

    `W[n, k] = scales[n, k / group_size] · (q[n, k] − z[n, k / group_size])`

    - `codes` is `[N, K · bits / 8]` of `i8` holding the unsigned codes
      `q ∈ [0, 2^bits)` row-major; for `bits = 4` two codes share a byte,
      the even `k` in the low nibble (ONNX Runtime's `MatMulNBits` order);
      `bits = 3` codes are a bit stream, code `k` at bit `3k` of its row
      (low bits first, 8 codes in 3 bytes).
    - `scales` is `[N, K / group_size]`, floating point.
    - `zero_points` is `[N, K / group_size]` of `i8` unsigned codes; without
      it the zero point is `2^(bits − 1)` (symmetric quantization).
    - `group_size` divides `K`; `group_size = K` is per-channel.

    Without `activations`, activations stay floating point: the op computes
    `result[..., n] = Σ_k input[..., k] · W[n, k] + bias[n]`, so its value is
    that of `llm.linear` over the dequantized weight. `llm-quantize` writes
    it; the CPU target keeps the codes packed and applies each group's scale
    and zero point once per group.

    With `codebook(%values, %datatypes)` (BitMoD: a mixture of datatypes)
    a code indexes a value grid instead of counting steps from the zero
    point: `codebook` is `[D, 2^bits]`, one grid per datatype, `datatypes`
    `[N, K / group_size]` of `i8` picks a grid per group, and
    `W[n, k] = scales[n, g] · codebook[datatypes[n, g], q[n, k]]`. It
    excludes `zero_points`.

    With `activations(8)` (W8A8, W4A8) each row of the input (a token) is
    first quantized to symmetric int8, `a = max_k |input[k]|`,
    `x_q[k] = clamp(roundeven(input[k] · 127 / a), −127, 127)` (0 when
    `a = 0`), and the op computes
    `result[n] = a/127 · Σ_g scales[n, g] · Σ_{k ∈ g} (q[n, k] − z[n, g]) · x_q[k] + bias[n]`:
    integer products summed per group, the scales applied once per group.

    ```mlir
    %y = llm.quantized_linear %x, %codes, %scales bits(4) group(32)
        : (tensor<1x8x64xf32>, tensor<176x32xi8>, tensor<176x2xf32>) -> tensor<1x8x176xf32>
    %z = llm.quantized_linear %x, %codes, %scales bits(4) group(32) activations(8)
        : (tensor<1x8x64xf32>, tensor<176x32xi8>, tensor<176x2xf32>) -> tensor<1x8x176xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input,
                       RankedTensorOf<[I8]>:$codes,
                       LLM_FloatTensor:$scales,
                       Optional<RankedTensorOf<[I8]>>:$zero_points,
                       Optional<LLM_FloatTensor>:$codebook,
                       Optional<RankedTensorOf<[I8]>>:$datatypes,
                       Optional<LLM_FloatTensor>:$bias,
                       ConfinedAttr<I64Attr, [IntMinValue<1>]>:$bits,
                       ConfinedAttr<I64Attr, [IntMinValue<1>]>:$group_size,
                       OptionalAttr<I64Attr>:$activation_bits);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $codes `,` $scales (`zero_points` `(` $zero_points^ `)`)?
    (`codebook` `(` $codebook^ `,` $datatypes `)`)?
    (`bias` `(` $bias^ `)`)? `bits` `(` $bits `)` `group` `(` $group_size `)`
    (`activations` `(` $activation_bits^ `)`)? attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    /// The weight's shape [N, K].
    int64_t getOutFeatures();
    int64_t getInFeatures();
  }];
  let hasVerifier = 1;
}

def LLM_KVQuantizeOp : LLM_Op<"kv_quantize", [Pure, DeclareOpInterfaceMethods<LLM_CostOpInterface>]> {
  let summary = "Quantize rows of keys or values for a KV cache";
  let description = [{
    Quantizes each row of `head_dim` values of `input` `[B, H, T, D]` (a
    head's key or value at one position) to signed `bits`-bit codes with
    one scale, `s = max_d |x| / (2^(bits−1) − 1)` and
    `q = clamp(roundeven(x / s), −qmax, qmax)` (0 when `s = 0`).

    - `codes` is `[B, H, T, D · bits / 8]` of `i8`; with `bits = 4` two
      codes share a byte, the even `d` in the low nibble.
    - `scales` is `[B, H, T]`.

    `llm-quantize kv=8|4` writes it where keys and values enter a cache.

    ```mlir
    %codes, %scales = llm.kv_quantize %k bits(4)
        : tensor<1x2x?x16xf32> -> tensor<1x2x?x8xi8>, tensor<1x2x?xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$input,
                       ConfinedAttr<I64Attr, [IntMinValue<1>]>:$bits);
  let results = (outs RankedTensorOf<[I8]>:$codes,
                      RankedTensorOf<[F32]>:$scales);
  let assemblyFormat = [{
    $input `bits` `(` $bits `)` attr-dict `:` type($input) `->` type($codes) `,` type($scales)
  }];
  let builders = [OpBuilder<(ins "::mlir::Value":$input, "int64_t":$bits)>];
  let extraClassDeclaration = [{
    /// The codes [B, H, T, D·bits/8] i8 and the scales [B, H, T] f32 of
    /// rows of `rowsType` [B, H, T, D].
    static ::mlir::RankedTensorType codesType(::mlir::RankedTensorType rowsType,
                                              int64_t bits);
    static ::mlir::RankedTensorType scalesType(::mlir::RankedTensorType rowsType);
  }];
  let hasVerifier = 1;
}

def LLM_KVDequantizeOp : LLM_Op<"kv_dequantize", [Pure, DeclareOpInterfaceMethods<LLM_CostOpInterface>]> {
  let summary = "Rows of keys or values from a quantized KV cache";
  let description = [{
    The inverse of `llm.kv_quantize`: `result[b, h, t, d] =
    scales[b, h, t] · q[b, h, t, d]` for the signed `bits`-bit codes
    `codes` `[B, H, T, D · bits / 8]`. `llm-quantize kv=8|4` writes it where
    attention reads a cache; the CPU target folds it into its fused
    attention, which reads the codes directly.

    ```mlir
    %k = llm.kv_dequantize %codes, %scales bits(8)
        : (tensor<1x2x?x16xi8>, tensor<1x2x?xf32>) -> tensor<1x2x?x16xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[I8]>:$codes,
                       RankedTensorOf<[F32]>:$scales,
                       ConfinedAttr<I64Attr, [IntMinValue<1>]>:$bits);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $codes `,` $scales `bits` `(` $bits `)` attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Normalisation
//===----------------------------------------------------------------------===//

def LLM_RMSNormOp : LLM_Op<"rms_norm", [Pure, DeclareOpInterfaceMethods<LLM_CostOpInterface>]> {
  let summary = "Root-mean-square normalisation over the last dimension";
  let description = [{
    `result = input / sqrt(mean(input², axis = -1) + epsilon) · weight`, with
    the mean and the square root evaluated in f32 (or wider) whatever the
    element type. The `weight` of shape `[dim]` is optional (no scaling when
    absent). `epsilon` must be finite and non-negative.

    ```mlir
    %n = llm.rms_norm %x, %w {epsilon = 1.0e-06 : f32}
        : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, Optional<LLM_FloatTensor>:$weight,
                       F32Attr:$epsilon);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $input (`,` $weight^)? attr-dict `:` functional-type(operands, results)
  }];
  let builders = [OpBuilder<(ins "::mlir::Value":$input, "::mlir::Value":$weight,
                                 "float":$epsilon)>];
  let hasVerifier = 1;
}

def LLM_LayerNormOp : LLM_Op<"layer_norm", [Pure, DeclareOpInterfaceMethods<LLM_CostOpInterface>, AttrSizedOperandSegments]> {
  let summary = "Layer normalisation over the last dimension";
  let description = [{
    `result = (input - mean) / sqrt(var + epsilon) · weight + bias`, where
    `mean` and the biased variance `var` are taken over the last dimension
    and accumulated in f32 (or wider). `weight` and `bias` have shape
    `[dim]` and are each optional. Normalising over several trailing
    dimensions (ONNX `axis` other than -1) is expressed by reshaping first.

    ```mlir
    %n = llm.layer_norm %x weight %g bias %b {epsilon = 1.0e-05 : f32}
        : (tensor<1x8x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, Optional<LLM_FloatTensor>:$weight,
                       Optional<LLM_FloatTensor>:$bias, F32Attr:$epsilon);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $input (`weight` $weight^)? (`bias` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let builders = [OpBuilder<(ins "::mlir::Value":$input, "::mlir::Value":$weight,
                                 "::mlir::Value":$bias, "float":$epsilon)>];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Positions and attention
//===----------------------------------------------------------------------===//

def LLM_RopeOp : LLM_Op<"rope", [Pure, DeclareOpInterfaceMethods<LLM_CostOpInterface>]> {
  let summary = "Rotary position embedding";
  let description = [{
    Rotates the first `R` features of the last dimension of `input` by the
    angles whose cosines and sines are given, `R` being the last dimension
    of `cos` and `sin` (`R` even, `R ≤ dim`; features `R..dim` pass through
    unchanged, which expresses partial rotary embeddings).

    With `interleaved` unset (rotate-half, as Llama and GPT-NeoX):
    `out[..., i] = x[..., i]·cos[..., i] - x[..., i + R/2]·sin[..., i]` and
    `out[..., i + R/2] = x[..., i + R/2]·cos[..., i + R/2] + x[..., i]·sin[..., i + R/2]`
    for `i < R/2`. With `interleaved` (GPT-J) the pairs are `(2i, 2i+1)`.

    `cos` and `sin` have the same type and broadcast against `input` with its
    last dimension replaced by `R` (NumPy rules, aligned on the right). They
    carry the positions: a `[seq, R]` table serves every batch row, a
    `[batch, 1, seq, R]` one gives each row its own positions (left-padded
    batches, decode steps). The op is layout-agnostic: the table's
    `seq` axis must line up with the input's sequence axis.

    ```mlir
    %r = llm.rope %q, %cos, %sin
        : (tensor<1x4x8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<1x4x8x16xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, LLM_FloatTensor:$cos,
                       LLM_FloatTensor:$sin, UnitAttr:$interleaved);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $cos `,` $sin attr-dict `:` functional-type(operands, results)
  }];
  let builders = [OpBuilder<(ins "::mlir::Value":$input, "::mlir::Value":$cos,
                                 "::mlir::Value":$sin, CArg<"bool", "false">:$interleaved)>];
  let hasVerifier = 1;
}

def LLM_AttentionOp : LLM_Op<"attention", [Pure, DeclareOpInterfaceMethods<LLM_CostOpInterface>, AttrSizedOperandSegments]> {
  let summary = "Scaled dot-product attention, multi-head or grouped-query";
  let description = [{
    Operands are laid out `[batch, heads, seq, head_dim]`:
    `query : [B, Hq, Sq, D]`, `key : [B, Hkv, Skv, D]`,
    `value : [B, Hkv, Skv, Dv]`, with `Hq = num_heads`,
    `Hkv = num_kv_heads` and `Hq` a multiple of `Hkv`. Query head `h` reads
    key/value head `h / (Hq / Hkv)`: `Hkv = Hq` is multi-head attention,
    `Hkv = 1` multi-query, anything between grouped-query.

    With the optional KV-cache pair `past (%past_key, %past_value)` of shapes
    `[B, Hkv, P, D]` and `[B, Hkv, P, Dv]`, the keys and values attended to
    are the past ones followed by the new ones (`T = P + Skv` of them), and
    the op has two more results, `present_key = concat(past_key, key)` and
    `present_value = concat(past_value, value)` along the sequence axis.
    Without a past, `T = Skv` and there are no extra results. Lowerings keep
    the cache in a preallocated buffer and append in place.

    `result[b, h, i, :] = Σ_j softmax_j(s[b, h, i, j]) · V[b, h', j, :]`
    with `s = scale · Q·Kᵀ + mask`, where:
    - `scale` defaults to `1/sqrt(D)`;
    - `mask` (optional, additive, floating point) broadcasts to
      `[B, Hq, Sq, T]`; `-inf` removes a key;
    - `causal` lets query `i` see key `j` only when `j ≤ i + (T - Sq)`: the
      queries are the last `Sq` positions of the sequence;
    - `sliding_window = W` also hides keys with `j ≤ i + (T - Sq) - W`.
    The softmax is taken with its maximum subtracted; a row with every key
    hidden gives zeros.

    ```mlir
    %o = llm.attention %q, %k, %v {causal, num_heads = 4 : i64, num_kv_heads = 2 : i64}
        : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>)
        -> tensor<1x4x8x16xf32>
    %o2, %pk, %pv = llm.attention %q1, %k1, %v1 past(%kc, %vc)
        {causal, num_heads = 4 : i64, num_kv_heads = 2 : i64}
        : (tensor<1x4x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>,
           tensor<1x2x7x16xf32>, tensor<1x2x7x16xf32>)
        -> (tensor<1x4x1x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>)
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$query, LLM_FloatTensor:$key,
                       LLM_FloatTensor:$value, Optional<LLM_FloatTensor>:$mask,
                       Optional<LLM_FloatTensor>:$past_key,
                       Optional<LLM_FloatTensor>:$past_value,
                       ConfinedAttr<I64Attr, [IntPositive]>:$num_heads,
                       ConfinedAttr<I64Attr, [IntPositive]>:$num_kv_heads,
                       UnitAttr:$causal, OptionalAttr<F32Attr>:$scale,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$sliding_window);
  let results = (outs LLM_FloatTensor:$result, Variadic<LLM_FloatTensor>:$present);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`mask` `(` $mask^ `)`)?
    (`past` `(` $past_key^ `,` $past_value `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let builders = [OpBuilder<(ins "::mlir::Value":$query, "::mlir::Value":$key,
      "::mlir::Value":$value, "::mlir::Value":$mask, "::mlir::Value":$pastKey,
      "::mlir::Value":$pastValue, "int64_t":$numHeads, "int64_t":$numKvHeads,
      "bool":$causal, "std::optional<float>":$scale,
      "std::optional<int64_t>":$slidingWindow)>];
  let extraClassDeclaration = [{
    /// The scale applied to Q·Kᵀ: the `scale` attribute or 1/sqrt(head_dim).
    /// Fails when neither is known (no attribute and a dynamic head_dim).
    ::mlir::FailureOr<float> getEffectiveScale();
    ::mlir::Value getPresentKey() { return getPresent().empty() ? nullptr : getPresent()[0]; }
    ::mlir::Value getPresentValue() { return getPresent().empty() ? nullptr : getPresent()[1]; }
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

def LLM_SoftmaxOp : LLM_Op<"softmax", [Pure, DeclareOpInterfaceMethods<LLM_CostOpInterface>, SameOperandsAndResultType]> {
  let summary = "Softmax along one axis";
  let description = [{
    `result = exp(x - max(x)) / Σ exp(x - max(x))` along `axis` (negative
    values count from the end, default -1). The maximum is subtracted so
    that large logits do not overflow.

    Folds to a constant 1.0 when the axis has static size 1.

    ```mlir
    %p = llm.softmax %s : tensor<1x4x8x8xf32>
    %q = llm.softmax %s axis = 1 : tensor<1x4x8x8xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = "$input (`axis` `=` $axis^)? attr-dict `:` type($result)";
  let extraClassDeclaration = [{
    /// The axis as a non-negative dimension index.
    int64_t getNormalizedAxis();
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

def LLM_SiluOp : LLM_Op<"silu", [Pure, DeclareOpInterfaceMethods<LLM_CostOpInterface>, SameOperandsAndResultType]> {
  let summary = "SiLU (swish) activation: x · sigmoid(x)";
  let description = [{
    Elementwise `x / (1 + exp(-x))`. Together with `arith.mulf` it forms the
    SwiGLU feed-forward gate `silu(x·W_gateᵀ) · (x·W_upᵀ)`.

    ```mlir
    %y = llm.silu %x : tensor<1x8x176xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def LLM_GeluOp : LLM_Op<"gelu", [Pure, DeclareOpInterfaceMethods<LLM_CostOpInterface>, SameOperandsAndResultType]> {
  let summary = "GELU activation, exact or tanh-approximated";
  let description = [{
    Elementwise `0.5·x·(1 + erf(x/√2))` (`approximate = none`, the default,
    as GPT-2 exports write it with `Erf`) or
    `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))` (`approximate = tanh`).

    ```mlir
    %y = llm.gelu %x : tensor<1x8x256xf32>
    %z = llm.gelu %x approximate = tanh : tensor<1x8x256xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input,
      DefaultValuedAttr<LLM_GeluApproximationAttr, "::mlir::llm::GeluApproximation::none">:$approximate);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = "$input (`approximate` `=` $approximate^)? attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Mixture of experts
//===----------------------------------------------------------------------===//

def LLM_MoeOp : LLM_Op<"moe", [Pure, DeclareOpInterfaceMethods<LLM_CostOpInterface>]> {
  let summary = "Mixture-of-experts feed-forward layer with top-k routing";
  let description = [{
    Routes every token of `input : [..., D]` to `top_k` of `E` experts and
    combines their outputs:

    1. `p = softmax(router_logits)` over the last axis of
       `router_logits : [..., E]` (same leading dimensions as the input);
    2. the `top_k` largest `p` are selected (ties go to the lower expert
       index); with `groups = G` (Mixture of Grouped Experts, MoGE) the
       experts form G contiguous groups of E/G and `top_k / G` are selected
       in every group instead, so each group receives exactly
       `tokens · top_k / G` slots; with `normalize_top_k` the selected
       weights are divided by their sum;
    3. `result = Σ_selected weight_e · expert_e(input)`, where
       `expert_e(x) = (act(x·W_gate[e]ᵀ) · (x·W_up[e]ᵀ))·W_down[e]ᵀ`, or
       `act(x·W_up[e]ᵀ)·W_down[e]ᵀ` when there is no gate.

    Expert weights are stacked along a leading expert axis in the `linear`
    layout: `gate`/`up : [E, F, D]`, `down : [E, D, F]`. The router is an
    ordinary `llm.linear` producing the logits, so that the routing decision
    is visible to the rewrites (MoGE grouping, load-balance analysis). Only
    the selected experts run per token in the lowering.

    ```mlir
    %y = llm.moe %x, %logits gate(%wg) up(%wu) down(%wd)
        {top_k = 2 : i64, normalize_top_k}
        : (tensor<1x8x64xf32>, tensor<1x8x8xf32>, tensor<8x128x64xf32>,
           tensor<8x128x64xf32>, tensor<8x64x128xf32>) -> tensor<1x8x64xf32>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, LLM_FloatTensor:$router_logits,
                       Optional<LLM_FloatTensor>:$gate_weight,
                       LLM_FloatTensor:$up_weight, LLM_FloatTensor:$down_weight,
                       ConfinedAttr<I64Attr, [IntPositive]>:$top_k,
                       UnitAttr:$normalize_top_k,
                       DefaultValuedAttr<LLM_ActivationAttr, "::mlir::llm::Activation::silu">:$activation,
                       DefaultValuedAttr<ConfinedAttr<I64Attr, [IntPositive]>, "1">:$groups);
  let results = (outs LLM_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $router_logits (`gate` `(` $gate_weight^ `)`)? `up` `(` $up_weight `)`
    `down` `(` $down_weight `)` (`activation` `=` $activation^)?
    attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    int64_t getNumExperts() {
      return ::llvm::cast<::mlir::RankedTensorType>(getUpWeight().getType()).getDimSize(0);
    }
  }];
  let hasVerifier = 1;
}

def LLM_TopKOp : LLM_Op<"topk", [Pure, DeclareOpInterfaceMethods<LLM_CostOpInterface>]> {
  let summary = "The k largest values along the last axis, with their indices";
  let description = [{
    For every row of `input` along its last axis, returns the `k` largest
    values in descending order and their indices (`i64`). Ties go to the
    lower index, as in ONNX Runtime and torch. This is the routing step of a
    mixture of experts (`softmax` then `topk` of the router logits), kept as
    one op so that routing is visible to rewrites and the lowering can use a
    partial selection instead of a sort.

    ```mlir
    %w, %idx = llm.topk %probs {k = 2 : i64}
        : tensor<8x8xf32> -> tensor<8x2xf32>, tensor<8x2xi64>
    ```
  }];
  let arguments = (ins LLM_FloatTensor:$input, ConfinedAttr<I64Attr, [IntPositive]>:$k);
  let results = (outs LLM_FloatTensor:$values, RankedTensorOf<[I64]>:$indices);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($values) `,` type($indices)";
  let builders = [OpBuilder<(ins "::mlir::Value":$input, "int64_t":$k)>];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Placement
//===----------------------------------------------------------------------===//

def LLM_TransferOp : LLM_Op<"transfer", [Pure, DeclareOpInterfaceMethods<LLM_CostOpInterface>, SameOperandsAndResultType]> {
  let summary = "Move a value from one device to another";
  let description = [{
    Makes `input`, produced on device `from`, available on device `to`.
    Partitioning inserts one at every edge between operations placed on
    different devices; the runtime turns it into a copy over the link the
    target description declares (or nothing, when both devices share
    memory). A transfer to the same device folds away, and a chain of
    transfers folds into one.

    ```mlir
    %y = llm.transfer %x : tensor<1x8x64xf32> from #llm.device<"cpu"> to #llm.device<"npu">
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, LLM_DeviceAttr:$from, LLM_DeviceAttr:$to);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input `:` type($result) `from` qualified($from) `to` qualified($to) attr-dict";
  let hasFolder = 1;
}

def LLM_DeviceCallOp : LLM_Op<"device_call", [Pure, DestinationStyleOpInterface,
    AttrSizedOperandSegments]> {
  let summary = "Run a device program (NPU, PIM, mesh) on tensors";
  let description = [{
    Runs program `program` of the module's `llm.device_programs` on device
    `device`. Every input and result is a matrix of rows (its leading
    dimensions flattened, the same row count for all) by its last
    dimension; the program writes each result into the buffer of its init.
    `llm-lower-to-device-programs` creates it for a run of ops placed on a
    device whose target emits programs; the CPU target lowers it to a call
    through which the runtime runs the program on that device's simulator.

    ```mlir
    %y = llm.device_call #llm.device<"npu"> program 0(%x : tensor<?x?x64xf32>)
        outs(%init : tensor<?x?x176xf32>) -> tensor<?x?x176xf32>
    ```
  }];
  let arguments = (ins Variadic<LLM_FloatTensor>:$inputs,
                       Variadic<LLM_FloatTensor>:$inits,
                       LLM_DeviceAttr:$device, I64Attr:$program);
  let results = (outs Variadic<LLM_FloatTensor>:$results);
  let assemblyFormat = [{
    qualified($device) `program` $program `(` $inputs `:` type($inputs) `)`
    `outs` `(` $inits `:` type($inits) `)` attr-dict (`->` type($results)^)?
  }];
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() { return getInitsMutable(); }
  }];
  let hasVerifier = 1;
}

#endif // LLMC_DIALECTS_LLM_LLMOPS_TD
