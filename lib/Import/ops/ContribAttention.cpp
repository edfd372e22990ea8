//===- ContribAttention.cpp - ONNX Runtime's attention and rotary ops -----===//
//
// com.microsoft GroupQueryAttention, MultiHeadAttention and
// RotaryEmbedding, as onnxruntime-genai's model builder and optimum write
// them, imported into the llm ops the decomposed forms raise to:
// llm.attention (with its past/present KV pair, so llm-synthesize-kv-cache
// turns them into the runtime's cache) and llm.rope with the rows of the
// cos/sin caches gathered at the token positions.
//
//===----------------------------------------------------------------------===//

#include "lib/Import/IRHelpers.h"
#include "lib/Import/NodeContext.h"

#include "dialects/llm/LLMOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Verifier.h"

using namespace mlir;
using namespace llmc::onnx_import;

namespace {

/// Fails unless input `i` is f32 [B, S, width] with a static `width`.
LogicalResult checkTokens(NodeContext &ctx, int i, StringRef what) {
  RankedTensorType t = ctx.type(i);
  if (t.getRank() != 3 || ShapedType::isDynamic(t.getDimSize(2)) ||
      !t.getElementType().isF32())
    return ctx.emitError(Twine(what) +
                         " must be f32 [batch, sequence, hidden] with a "
                         "static hidden size");
  return success();
}

/// [B, S, H·D] -> [B, H, S, D].
Value splitHeads(NodeContext &ctx, Value x, int64_t heads, int64_t headDim) {
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  auto t = cast<RankedTensorType>(x.getType());
  auto type = RankedTensorType::get(
      {t.getDimSize(0), t.getDimSize(1), heads, headDim}, t.getElementType());
  SmallVector<OpFoldResult> sizes = {ctx.dimSize(x, 0), ctx.dimSize(x, 1),
                                     b.getIndexAttr(heads),
                                     b.getIndexAttr(headDim)};
  Value split = tensor::ExpandShapeOp::create(
      b, loc, type, x, SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}},
      sizes);
  return transpose(b, loc, split, {0, 2, 1, 3});
}

/// [B, H, S, D] -> [B, S, H·D].
Value mergeHeads(NodeContext &ctx, Value x) {
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value t = transpose(b, loc, x, {0, 2, 1, 3});
  auto type = cast<RankedTensorType>(t.getType());
  auto merged = RankedTensorType::get({type.getDimSize(0), type.getDimSize(1),
                                       type.getDimSize(2) * type.getDimSize(3)},
                                      type.getElementType());
  return tensor::CollapseShapeOp::create(
      b, loc, merged, t, SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
}

/// Columns [offset, offset + width) of a [B, S, X] tensor.
Value columns(NodeContext &ctx, Value x, int64_t offset, int64_t width) {
  OpBuilder &b = ctx.builder();
  auto t = cast<RankedTensorType>(x.getType());
  auto type = RankedTensorType::get({t.getDimSize(0), t.getDimSize(1), width},
                                    t.getElementType());
  SmallVector<OpFoldResult> offsets = {b.getIndexAttr(0), b.getIndexAttr(0),
                                       b.getIndexAttr(offset)};
  SmallVector<OpFoldResult> sizes = {ctx.dimSize(x, 0), ctx.dimSize(x, 1),
                                     b.getIndexAttr(width)};
  SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(b, ctx.loc(), type, x, offsets, sizes,
                                        strides);
}

/// The rotary caches of inputs `cosInput`/`sinInput`: constants
/// [max_positions, R/2]. Returns R.
FailureOr<int64_t> checkRotaryCaches(NodeContext &ctx, int cosInput,
                                     int sinInput) {
  auto cos = ctx.requireConstant(cosInput, "cos_cache");
  auto sin = ctx.requireConstant(sinInput, "sin_cache");
  if (failed(cos) || failed(sin))
    return failure();
  if ((*cos)->rank() != 2 || (*cos)->shape() != (*sin)->shape() ||
      (*cos)->dtype() != DType::F32 || (*sin)->dtype() != DType::F32)
    return ctx.emitError("cos_cache and sin_cache must be f32 [max_positions, "
                         "rotary_dim / 2] of the same shape");
  return 2 * (*cos)->shape()[1];
}

/// The llm.rope table [B, S, R] from a [M, R/2] cache at `positions` [B, S]
/// (i64): `table[b, s, r] = cache[pos, interleaved ? r/2 : r mod R/2]`. A
/// position outside the cache reads its nearest end (a padding position of
/// a left-padded row is negative); callers bound the positions.
Value ropeTable(NodeContext &ctx, int cacheInput, Value positions,
                bool interleaved) {
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value cache = ctx.value(cacheInput);
  auto cacheType = cast<RankedTensorType>(cache.getType());
  int64_t rows = cacheType.getDimSize(0), half = cacheType.getDimSize(1);
  auto posType = cast<RankedTensorType>(positions.getType());
  auto type = RankedTensorType::get(
      {posType.getDimSize(0), posType.getDimSize(1), 2 * half}, b.getF32Type());
  Value init =
      emptyTensor(b, loc, type,
                  {ctx.dimSize(positions, 0), ctx.dimSize(positions, 1),
                   b.getIndexAttr(2 * half)});
  MLIRContext *mctx = ctx.context();
  AffineMap rowMap = AffineMap::get(
      3, 0, {getAffineDimExpr(0, mctx), getAffineDimExpr(1, mctx)}, mctx);
  SmallVector<AffineMap> maps = {rowMap, b.getMultiDimIdentityMap(3)};
  SmallVector<utils::IteratorType> iterators(3, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ValueRange{positions}, ValueRange{init},
             maps, iterators,
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               auto index = [&](int64_t v) {
                 return arith::ConstantIndexOp::create(nb, nl, v);
               };
               Value pos = arith::IndexCastOp::create(nb, nl, nb.getIndexType(),
                                                      args[0]);
               pos = arith::MaxSIOp::create(nb, nl, pos, index(0));
               pos = arith::MinSIOp::create(nb, nl, pos, index(rows - 1));
               Value r = linalg::IndexOp::create(nb, nl, 2);
               Value column =
                   interleaved
                       ? Value(arith::DivUIOp::create(nb, nl, r, index(2)))
                       : Value(arith::RemUIOp::create(nb, nl, r, index(half)));
               Value v = tensor::ExtractOp::create(nb, nl, cache,
                                                   ValueRange{pos, column});
               linalg::YieldOp::create(nb, nl, v);
             })
      .getResult(0);
}

/// Inserts a unit dim at `at` into a [B, S, R] rope table.
Value unitDim(NodeContext &ctx, Value table, int64_t at) {
  OpBuilder &b = ctx.builder();
  auto t = cast<RankedTensorType>(table.getType());
  SmallVector<int64_t> shape(t.getShape());
  shape.insert(shape.begin() + at, 1);
  SmallVector<OpFoldResult> sizes = {ctx.dimSize(table, 0),
                                     ctx.dimSize(table, 1),
                                     b.getIndexAttr(t.getDimSize(2))};
  sizes.insert(sizes.begin() + at, b.getIndexAttr(1));
  SmallVector<ReassociationIndices> groups =
      at == 1 ? SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}}
              : SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}};
  return tensor::ExpandShapeOp::create(
      b, ctx.loc(), RankedTensorType::get(shape, t.getElementType()), table,
      groups, sizes);
}

/// A [B, S] i64 tensor of `body(inputs, b, s)` (b, s index values), B and
/// S being dims `batchDim` and `seqDim` of `like`.
Value positionsLike(
    NodeContext &ctx, Value like, int64_t batchDim, int64_t seqDim,
    ValueRange inputs, ArrayRef<AffineMap> inputMaps,
    function_ref<Value(OpBuilder &, Location, ValueRange, Value, Value)> body) {
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  auto t = cast<RankedTensorType>(like.getType());
  auto type = RankedTensorType::get(
      {t.getDimSize(batchDim), t.getDimSize(seqDim)}, b.getI64Type());
  Value init = emptyTensor(
      b, loc, type, {ctx.dimSize(like, batchDim), ctx.dimSize(like, seqDim)});
  SmallVector<AffineMap> maps(inputMaps);
  maps.push_back(b.getMultiDimIdentityMap(2));
  SmallVector<utils::IteratorType> iterators(2, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, inputs, ValueRange{init}, maps, iterators,
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               Value row = linalg::IndexOp::create(nb, nl, 0);
               Value col = linalg::IndexOp::create(nb, nl, 1);
               Value pos = body(nb, nl, args.drop_back(), row, col);
               linalg::YieldOp::create(nb, nl, pos);
             })
      .getResult(0);
}

Value rope(NodeContext &ctx, Value x, Value cos, Value sin, bool interleaved) {
  return llm::RopeOp::create(ctx.builder(), ctx.loc(), x, cos, sin,
                             interleaved);
}

//===----------------------------------------------------------------------===//
// GroupQueryAttention
//===----------------------------------------------------------------------===//

/// Inputs: query, key, value, past_key, past_value, seqlens_k,
/// total_sequence_length, cos_cache, sin_cache (position_ids,
/// attention_bias, head_sink: not supported); local_window_size becomes
/// the sliding window. The keys attended to are the
/// past followed by the new ones, causally (ONNX Runtime's semantics with
/// separate past and present buffers); `seqlens_k + 1` is each row's real
/// length and gives the rotary positions of the new tokens,
/// `seqlens_k + 1 - S + i`. llmc's runtime masks left padding itself (its
/// KV mask), so the key range is not cut at `seqlens_k`.
LogicalResult importGroupQueryAttention(NodeContext &ctx) {
  int64_t heads = ctx.intAttr("num_heads", 0),
          kvHeads = ctx.intAttr("kv_num_heads", 0);
  if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0)
    return ctx.emitError("num_heads (" + Twine(heads) +
                         ") must be a positive multiple of kv_num_heads (" +
                         Twine(kvHeads) + ")");
  // A window of W keys: the query at position i sees keys i - W + 1 .. i,
  // as ONNX Runtime computes it (llm.attention's sliding_window).
  int64_t window = ctx.intAttr("local_window_size", -1);
  if (window == 0 || window < -1)
    return ctx.emitError("local_window_size = " + Twine(window) +
                         " must be positive or -1 (no window)");
  if (ctx.floatAttr("softcap", 0.0f) != 0.0f)
    return ctx.emitError("softcap is not supported");
  if (ctx.intAttr("smooth_softmax", 0) != 0)
    return ctx.emitError("smooth_softmax is not supported");
  if (failed(ctx.requireInput(0, "query")) ||
      failed(ctx.requireInput(3, "past_key")) ||
      failed(ctx.requireInput(4, "past_value")) ||
      failed(ctx.requireInput(5, "seqlens_k")) ||
      failed(ctx.refuseInput(9, "position_ids")) ||
      failed(ctx.refuseInput(10, "attention_bias")) ||
      failed(ctx.refuseInput(11, "head_sink")) ||
      failed(ctx.refuseOutput(3, "output_qk")) ||
      failed(checkTokens(ctx, 0, "query")))
    return failure();
  bool packed = !ctx.hasInput(1);
  if (packed != !ctx.hasInput(2))
    return ctx.emitError("key and value must both be given or both be empty "
                         "(packed QKV)");
  int64_t width = ctx.type(0).getDimSize(2);
  int64_t total = packed ? heads + 2 * kvHeads : heads;
  if (width % total != 0)
    return ctx.emitError("query width " + Twine(width) +
                         " is not a multiple of " + Twine(total) + " heads");
  int64_t headDim = width / total;
  Value q = ctx.value(0), k, v;
  if (packed) {
    k = columns(ctx, q, heads * headDim, kvHeads * headDim);
    v = columns(ctx, q, (heads + kvHeads) * headDim, kvHeads * headDim);
    q = columns(ctx, q, 0, heads * headDim);
  } else {
    if (failed(checkTokens(ctx, 1, "key")) ||
        failed(checkTokens(ctx, 2, "value")))
      return failure();
    if (ctx.type(1).getDimSize(2) != kvHeads * headDim ||
        ctx.type(2).getDimSize(2) != kvHeads * headDim)
      return ctx.emitError("key and value must have kv_num_heads · head_size "
                           "= " +
                           Twine(kvHeads * headDim) + " features");
    k = ctx.value(1);
    v = ctx.value(2);
  }
  for (int i : {3, 4}) {
    RankedTensorType t = ctx.type(i);
    if (t.getRank() != 4 || t.getDimSize(1) != kvHeads ||
        t.getDimSize(3) != headDim)
      return ctx.emitError(Twine(i == 3 ? "past_key" : "past_value") +
                           " must be [batch, kv_num_heads = " + Twine(kvHeads) +
                           ", past, head_size = " + Twine(headDim) + "]");
  }
  RankedTensorType seqlensType = ctx.type(5);
  if (seqlensType.getRank() != 1 || !seqlensType.getElementType().isInteger(32))
    return ctx.emitError("seqlens_k must be int32 [batch]");

  Value q4 = splitHeads(ctx, q, heads, headDim);
  Value k4 = splitHeads(ctx, k, kvHeads, headDim);
  Value v4 = splitHeads(ctx, v, kvHeads, headDim);
  if (ctx.intAttr("do_rotary", 0)) {
    auto rotaryDim = checkRotaryCaches(ctx, 7, 8);
    if (failed(rotaryDim))
      return failure();
    if (*rotaryDim > headDim)
      return ctx.emitError("the rotary caches cover " + Twine(*rotaryDim) +
                           " features, more than head_size " + Twine(headDim));
    // Position of new token i in row b: seqlens_k[b] + 1 - S + i.
    Value steps = arith::IndexCastOp::create(
        ctx.builder(), ctx.loc(), ctx.builder().getI64Type(),
        getValueOrCreateConstantIndexOp(ctx.builder(), ctx.loc(),
                                        ctx.dimSize(q, 1)));
    MLIRContext *mctx = ctx.context();
    Value positions = positionsLike(
        ctx, q, 0, 1, ValueRange{ctx.value(5)},
        {AffineMap::get(2, 0, {getAffineDimExpr(0, mctx)}, mctx)},
        [&](OpBuilder &nb, Location nl, ValueRange args, Value, Value col) {
          Value len = arith::ExtSIOp::create(nb, nl, nb.getI64Type(), args[0]);
          Value one = arith::ConstantIntOp::create(nb, nl, 1, 64);
          Value i = arith::IndexCastOp::create(nb, nl, nb.getI64Type(), col);
          Value first = arith::SubIOp::create(
              nb, nl, arith::AddIOp::create(nb, nl, len, one), steps);
          return arith::AddIOp::create(nb, nl, first, i).getResult();
        });
    bool interleaved = ctx.intAttr("rotary_interleaved", 0) != 0;
    Value cos = unitDim(ctx, ropeTable(ctx, 7, positions, interleaved), 1);
    Value sin = unitDim(ctx, ropeTable(ctx, 8, positions, interleaved), 1);
    q4 = rope(ctx, q4, cos, sin, interleaved);
    k4 = rope(ctx, k4, cos, sin, interleaved);
  }
  float scale = ctx.floatAttr("scale", 0.0f);
  auto attention = llm::AttentionOp::create(
      ctx.builder(), ctx.loc(), q4, k4, v4, Value(), ctx.value(3), ctx.value(4),
      heads, kvHeads, /*causal=*/true,
      scale != 0.0f ? std::optional<float>(scale) : std::nullopt,
      window > 0 ? std::optional<int64_t>(window) : std::nullopt);
  if (failed(verify(attention)))
    return failure();
  ctx.setOutput(0, mergeHeads(ctx, attention.getResult()));
  if (ctx.numOutputs() > 1)
    ctx.setOutput(1, attention.getPresentKey());
  if (ctx.numOutputs() > 2)
    ctx.setOutput(2, attention.getPresentValue());
  return success();
}

//===----------------------------------------------------------------------===//
// MultiHeadAttention
//===----------------------------------------------------------------------===//

/// The additive mask of MultiHeadAttention: key_padding_mask [B, T] (0 hides
/// a key, with mask_filter_value) and attention_bias broadcasting to
/// [B, H, S, T]. Null when neither is given.
FailureOr<Value> attentionMask(NodeContext &ctx) {
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value mask;
  if (ctx.hasInput(4)) {
    RankedTensorType t = ctx.type(4);
    if (t.getRank() != 2 || !t.getElementType().isInteger(32))
      return ctx.emitError("key_padding_mask must be int32 [batch, "
                           "total_sequence_length] (other forms are not "
                           "supported)");
    float filter = ctx.floatAttr("mask_filter_value", -10000.0f);
    Value padding = ctx.value(4);
    auto type = RankedTensorType::get(t.getShape(), b.getF32Type());
    Value init = emptyTensor(
        b, loc, type, {ctx.dimSize(padding, 0), ctx.dimSize(padding, 1)});
    SmallVector<AffineMap> maps(2, b.getMultiDimIdentityMap(2));
    SmallVector<utils::IteratorType> iterators(2,
                                               utils::IteratorType::parallel);
    Value additive =
        linalg::GenericOp::create(
            b, loc, TypeRange{type}, ValueRange{padding}, ValueRange{init},
            maps, iterators,
            [&](OpBuilder &nb, Location nl, ValueRange args) {
              Value zero = arith::ConstantIntOp::create(nb, nl, 0, 32);
              Value hidden = arith::CmpIOp::create(
                  nb, nl, arith::CmpIPredicate::eq, args[0], zero);
              Value v = arith::SelectOp::create(
                  nb, nl, hidden,
                  arith::ConstantFloatOp::create(nb, nl, nb.getF32Type(),
                                                 APFloat(filter)),
                  arith::ConstantFloatOp::create(nb, nl, nb.getF32Type(),
                                                 APFloat(0.0f)));
              linalg::YieldOp::create(nb, nl, v);
            })
            .getResult(0);
    // [B, T] -> [B, 1, 1, T].
    mask = tensor::ExpandShapeOp::create(
        b, loc,
        RankedTensorType::get({t.getDimSize(0), 1, 1, t.getDimSize(1)},
                              b.getF32Type()),
        additive, SmallVector<ReassociationIndices>{{0, 1, 2}, {3}},
        SmallVector<OpFoldResult>{ctx.dimSize(padding, 0), b.getIndexAttr(1),
                                  b.getIndexAttr(1), ctx.dimSize(padding, 1)});
  }
  if (ctx.hasInput(5)) {
    RankedTensorType t = ctx.type(5);
    if (t.getRank() != 4 || !t.getElementType().isF32())
      return ctx.emitError("attention_bias must be f32 [batch or 1, heads or "
                           "1, sequence, total_sequence_length]");
    Value bias = ctx.value(5);
    if (!mask)
      return bias;
    auto maskType = cast<RankedTensorType>(mask.getType());
    auto shape = broadcastShape(maskType.getShape(), t.getShape());
    if (failed(shape))
      return ctx.emitError("attention_bias does not broadcast with "
                           "key_padding_mask");
    SmallVector<OpFoldResult> sizes;
    for (int64_t d = 0; d < 4; ++d)
      sizes.push_back(ShapedType::isDynamic((*shape)[d])
                          ? (t.getDimSize(d) == 1 ? ctx.dimSize(mask, d)
                                                  : ctx.dimSize(bias, d))
                          : OpFoldResult(b.getIndexAttr((*shape)[d])));
    mask =
        arith::AddFOp::create(b, loc, broadcastTo(b, loc, mask, *shape, sizes),
                              broadcastTo(b, loc, bias, *shape, sizes));
  }
  return mask;
}

/// Inputs: query, key, value [B, L, hidden], bias (q|k|v, optional),
/// key_padding_mask [B, T], attention_bias, past_key, past_value
/// [B, H, P, D]; attributes num_heads, scale, unidirectional (causal),
/// mask_filter_value.
LogicalResult importMultiHeadAttention(NodeContext &ctx) {
  int64_t heads = ctx.intAttr("num_heads", 0);
  if (heads <= 0)
    return ctx.emitError("num_heads must be positive");
  if (failed(ctx.requireInput(0, "query")) ||
      failed(ctx.refuseInput(8, "past_sequence_length")) ||
      failed(ctx.refuseInput(9, "cache_indirection")) ||
      failed(ctx.refuseOutput(3, "qk")))
    return failure();
  if (ctx.type(0).getRank() == 5 || !ctx.hasInput(1) || !ctx.hasInput(2))
    return ctx.emitError("packed QKV or KV (query of rank 5, or no key and "
                         "value) is not supported");
  if (ctx.type(1).getRank() == 4)
    return ctx.emitError("key in [batch, heads, length, head_size] layout "
                         "(cross attention on a precomputed cache) is not "
                         "supported");
  if (failed(checkTokens(ctx, 0, "query")) ||
      failed(checkTokens(ctx, 1, "key")) ||
      failed(checkTokens(ctx, 2, "value")))
    return failure();
  int64_t qWidth = ctx.type(0).getDimSize(2),
          kWidth = ctx.type(1).getDimSize(2),
          vWidth = ctx.type(2).getDimSize(2);
  if (qWidth % heads || qWidth != kWidth || vWidth % heads)
    return ctx.emitError("query and key must have the same width, and query "
                         "and value widths must be multiples of num_heads");
  int64_t headDim = qWidth / heads;
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value q = ctx.value(0), k = ctx.value(1), v = ctx.value(2);
  if (ctx.hasInput(3)) {
    RankedTensorType bt = ctx.type(3);
    if (bt.getRank() != 1 || bt.getDimSize(0) != qWidth + kWidth + vWidth)
      return ctx.emitError("bias must be [" + Twine(qWidth + kWidth + vWidth) +
                           "] (query, key and value biases)");
    Value bias = ctx.value(3);
    auto addBias = [&](Value x, int64_t offset, int64_t width) -> Value {
      Value part = tensor::ExtractSliceOp::create(
          b, loc, RankedTensorType::get({width}, b.getF32Type()), bias,
          ArrayRef<OpFoldResult>{b.getIndexAttr(offset)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(width)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
      auto t = cast<RankedTensorType>(x.getType());
      return arith::AddFOp::create(
          b, loc, x,
          broadcastTo(b, loc, part, t.getShape(), mixedSizes(b, loc, x)));
    };
    q = addBias(q, 0, qWidth);
    k = addBias(k, qWidth, kWidth);
    v = addBias(v, qWidth + kWidth, vWidth);
  }
  bool past = ctx.hasInput(6);
  if (past != ctx.hasInput(7))
    return ctx.emitError("past_key and past_value must both be given");
  if (past)
    for (int i : {6, 7}) {
      RankedTensorType t = ctx.type(i);
      int64_t d = i == 6 ? headDim : vWidth / heads;
      if (t.getRank() != 4 || t.getDimSize(1) != heads || t.getDimSize(3) != d)
        return ctx.emitError(Twine(i == 6 ? "past_key" : "past_value") +
                             " must be [batch, num_heads = " + Twine(heads) +
                             ", past, " + Twine(d) + "]");
    }
  auto mask = attentionMask(ctx);
  if (failed(mask))
    return failure();
  float scale = ctx.floatAttr("scale", 0.0f);
  auto attention = llm::AttentionOp::create(
      b, loc, splitHeads(ctx, q, heads, headDim),
      splitHeads(ctx, k, heads, headDim),
      splitHeads(ctx, v, heads, vWidth / heads), *mask,
      past ? ctx.value(6) : Value(), past ? ctx.value(7) : Value(), heads,
      heads, ctx.intAttr("unidirectional", 0) != 0,
      scale != 0.0f ? std::optional<float>(scale) : std::nullopt, std::nullopt);
  if (failed(verify(attention)))
    return failure();
  ctx.setOutput(0, mergeHeads(ctx, attention.getResult()));
  for (int i : {1, 2})
    if (i < ctx.numOutputs() && !ctx.node().output(i).empty()) {
      if (!past)
        return ctx.emitError("present_key/present_value need past_key and "
                             "past_value");
      ctx.setOutput(i, i == 1 ? attention.getPresentKey()
                              : attention.getPresentValue());
    }
  return success();
}

//===----------------------------------------------------------------------===//
// RotaryEmbedding
//===----------------------------------------------------------------------===//

/// Inputs: input [B, S, hidden] or [B, N, S, head_size], position_ids
/// [B, S] (or [1]: the first position), cos_cache, sin_cache
/// [max_positions, R/2]; attributes interleaved, num_heads,
/// rotary_embedding_dim (R; partial rotary when R < head_size).
LogicalResult importRotaryEmbedding(NodeContext &ctx) {
  if (failed(ctx.requireInputs({"input", "position_ids"})))
    return failure();
  if (ctx.intAttr("is_packed_batching", 0) != 0)
    return ctx.emitError("is_packed_batching is not supported");
  if (ctx.floatAttr("scale", 1.0f) != 1.0f)
    return ctx.emitError("scale other than 1 is not supported");
  auto rotaryDim = checkRotaryCaches(ctx, 2, 3);
  if (failed(rotaryDim))
    return failure();
  int64_t attrDim = ctx.intAttr("rotary_embedding_dim", 0);
  if (attrDim != 0 && attrDim != *rotaryDim)
    return ctx.emitError("rotary_embedding_dim = " + Twine(attrDim) +
                         " does not match the caches' " + Twine(*rotaryDim) +
                         " features");
  RankedTensorType xt = ctx.type(0);
  if (!xt.getElementType().isF32() ||
      (xt.getRank() != 3 && xt.getRank() != 4) ||
      ShapedType::isDynamic(xt.getShape().back()))
    return ctx.emitError("input must be f32 [batch, sequence, hidden] or "
                         "[batch, heads, sequence, head_size] with a static "
                         "last dimension");
  bool bsh = xt.getRank() == 3;
  int64_t heads = ctx.intAttr("num_heads", 0);
  int64_t headDim = xt.getShape().back();
  if (bsh) {
    if (heads == 0)
      heads = xt.getDimSize(2) / *rotaryDim;
    if (heads <= 0 || xt.getDimSize(2) % heads != 0)
      return ctx.emitError("num_heads must divide the hidden size " +
                           Twine(xt.getDimSize(2)));
    headDim = xt.getDimSize(2) / heads;
  }
  if (*rotaryDim > headDim)
    return ctx.emitError("the rotary caches cover " + Twine(*rotaryDim) +
                         " features, more than head_size " + Twine(headDim));
  OpBuilder &b = ctx.builder();
  Location loc = ctx.loc();
  Value x = ctx.value(0);
  // [B, S, H·D] is rotated as [B, S, H, D] with a [B, S, 1, R] table;
  // [B, H, S, D] takes a [B, 1, S, R] one.
  Value tokens = x;
  if (bsh)
    x = tensor::ExpandShapeOp::create(
        b, loc,
        RankedTensorType::get(
            {xt.getDimSize(0), xt.getDimSize(1), heads, headDim},
            xt.getElementType()),
        x, SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}},
        SmallVector<OpFoldResult>{ctx.dimSize(tokens, 0),
                                  ctx.dimSize(tokens, 1), b.getIndexAttr(heads),
                                  b.getIndexAttr(headDim)});
  RankedTensorType pt = ctx.type(1);
  if (!pt.getElementType().isInteger(64) ||
      !(pt.getRank() == 2 || (pt.getRank() == 1 && pt.getDimSize(0) == 1)))
    return ctx.emitError("position_ids must be int64 [batch, sequence] or [1]");
  Value positions = ctx.value(1);
  if (pt.getRank() == 1) {
    // One starting position for every row: positions[b, s] = start + s.
    MLIRContext *mctx = ctx.context();
    positions = positionsLike(
        ctx, tokens, 0, bsh ? 1 : 2, ValueRange{positions},
        {AffineMap::get(2, 0, {getAffineConstantExpr(0, mctx)}, mctx)},
        [&](OpBuilder &nb, Location nl, ValueRange args, Value, Value col) {
          Value s = arith::IndexCastOp::create(nb, nl, nb.getI64Type(), col);
          return arith::AddIOp::create(nb, nl, args[0], s).getResult();
        });
  }
  bool interleaved = ctx.intAttr("interleaved", 0) != 0;
  int64_t at = bsh ? 2 : 1;
  Value cos = unitDim(ctx, ropeTable(ctx, 2, positions, interleaved), at);
  Value sin = unitDim(ctx, ropeTable(ctx, 3, positions, interleaved), at);
  auto op = llm::RopeOp::create(b, loc, x, cos, sin, interleaved);
  if (failed(verify(op)))
    return failure();
  Value result = op.getResult();
  if (bsh)
    result = tensor::CollapseShapeOp::create(
        b, loc, xt, result,
        SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
  ctx.setOutput(0, result);
  return success();
}

} // namespace

void llmc::onnx_import::registerContribAttentionOps(OpRegistry &r) {
  r.add(kMicrosoftDomain, "GroupQueryAttention", 1, importGroupQueryAttention);
  r.add(kMicrosoftDomain, "MultiHeadAttention", 1, importMultiHeadAttention);
  r.add(kMicrosoftDomain, "RotaryEmbedding", 1, importRotaryEmbedding);
}
