//===- AttentionPatterns.cpp - raising RoPE and attention
//-------------------===//

#include "passes/raise/Matchers.h"
#include "passes/raise/RaisePatterns.h"

#include "dialects/llm/LLMOps.h"
#include "dialects/llm/ShapeTracing.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::llm;
using namespace mlir::llm::raise;

namespace {

//===----------------------------------------------------------------------===//
// RoPE
//===----------------------------------------------------------------------===//

/// True if `size` is dimension `d` of `x`: the same constant, the same
/// traced value, or tensor.dim of x itself.
bool sameSize(OpFoldResult size, OpFoldResult traced, Value x, int64_t d) {
  if (traced && isEqualConstantIntOrValue(size, traced))
    return true;
  auto v = dyn_cast_if_present<Value>(size);
  auto dim = v ? v.getDefiningOp<tensor::DimOp>() : tensor::DimOp();
  return dim && dim.getSource() == x && dim.getConstantIndex() == d;
}

/// Sizes that are equal by construction: the same value or constant, or
/// results of identical operations on equal sizes.
bool equivalentSizes(OpFoldResult a, OpFoldResult b, int depth = 0) {
  if (a == b)
    return true;
  std::optional<int64_t> ca = getConstantIntValue(a),
                         cb = getConstantIntValue(b);
  if (ca || cb)
    return ca == cb;
  Operation *x = cast<Value>(a).getDefiningOp(),
            *y = cast<Value>(b).getDefiningOp();
  if (!x || !y || depth > 4 || x->getName() != y->getName() ||
      x->getAttrDictionary() != y->getAttrDictionary() ||
      x->getNumOperands() != y->getNumOperands() || x->getNumResults() != 1)
    return false;
  for (auto [p, q] : llvm::zip(x->getOperands(), y->getOperands()))
    if (!equivalentSizes(p, q, depth + 1))
      return false;
  return true;
}

/// v == x[..., offset : offset + size] (unit strides, everything else whole).
bool isLastDimSlice(Value v, Value x, int64_t offset, int64_t size) {
  auto slice = v.getDefiningOp<tensor::ExtractSliceOp>();
  if (!slice || slice.getSource() != x || !slice.hasUnitStride())
    return false;
  auto type = cast<RankedTensorType>(x.getType());
  int64_t last = type.getRank() - 1;
  for (int64_t d = 0; d <= last; ++d) {
    std::optional<int64_t> off =
        getConstantIntValue(slice.getMixedOffsets()[d]);
    OpFoldResult sz = slice.getMixedSizes()[d];
    if (d == last) {
      if (off != offset || getConstantIntValue(sz) != size)
        return false;
    } else if (off != 0 || !sameSize(sz, traceDimSize(x, d), x, d)) {
      return false;
    }
  }
  return true;
}

/// v == concat(-x[..., h:], x[..., :h]) along the last dim; returns x.
Value matchRotateHalf(Value v) {
  auto concat = v.getDefiningOp<tensor::ConcatOp>();
  if (!concat || concat.getInputs().size() != 2)
    return {};
  auto type = cast<RankedTensorType>(v.getType());
  if (static_cast<int64_t>(concat.getDim()) != type.getRank() - 1)
    return {};
  auto neg = concat.getInputs()[0].getDefiningOp<arith::NegFOp>();
  if (!neg)
    return {};
  auto hi = neg.getOperand().getDefiningOp<tensor::ExtractSliceOp>();
  if (!hi)
    return {};
  Value x = hi.getSource();
  int64_t d = type.getShape().back();
  if (ShapedType::isDynamic(d) || d % 2 != 0 || x.getType() != v.getType() ||
      !isLastDimSlice(neg.getOperand(), x, d / 2, d / 2) ||
      !isLastDimSlice(concat.getInputs()[1], x, 0, d / 2))
    return {};
  return x;
}

/// True if `from` broadcasts to `to` one way: right-aligned, each dim of
/// `from` 1 or equal.
bool broadcastsTo(ArrayRef<int64_t> from, ArrayRef<int64_t> to) {
  if (from.size() > to.size())
    return false;
  for (auto [a, b] : llvm::zip(llvm::reverse(from), llvm::reverse(to)))
    if (a != 1 && a != b)
      return false;
  return true;
}

/// cos/sin tables broadcast to x, with x's last dim.
bool tableFits(Value table, RankedTensorType x) {
  auto t = cast<RankedTensorType>(table.getType());
  return t.getElementType() == x.getElementType() &&
         t.getShape().back() == x.getShape().back() &&
         broadcastsTo(t.getShape(), x.getShape());
}

/// x * cos + rotate_half(x) * sin -> llm.rope x, cos, sin.
struct RaiseRope : OpRewritePattern<arith::AddFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::AddFOp op,
                                PatternRewriter &rewriter) const override {
    if (!isa<RankedTensorType>(op.getType()))
      return rewriter.notifyMatchFailure(op, "not a tensor op");
    for (int i = 0; i < 2; ++i) {
      auto cosMul = op->getOperand(i).getDefiningOp<arith::MulFOp>();
      auto sinMul = op->getOperand(1 - i).getDefiningOp<arith::MulFOp>();
      if (!cosMul || !sinMul)
        continue;
      for (int j = 0; j < 2; ++j) {
        Value x = matchRotateHalf(sinMul->getOperand(j));
        if (!x)
          continue;
        auto xType = cast<RankedTensorType>(x.getType());
        Value sin = stripToAligned(sinMul->getOperand(1 - j));
        for (int k = 0; k < 2; ++k) {
          if (cosMul->getOperand(k) != x)
            continue;
          Value cos = stripToAligned(cosMul->getOperand(1 - k));
          if (cos.getType() != sin.getType() || !tableFits(cos, xType) ||
              xType != op.getType())
            continue;
          rewriter.replaceOpWithNewOp<RopeOp>(op, xType, x, cos, sin,
                                              UnitAttr());
          return success();
        }
      }
    }
    return rewriter.notifyMatchFailure(op, "not x*cos + rotate_half(x)*sin");
  }
};

/// concat(rope(x[..., :R], cos, sin), x[..., R:]) -> rope(x, cos, sin):
/// partial rotary embedding, as llm.rope defines it for tables of width R.
struct FoldPartialRope : OpRewritePattern<tensor::ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tensor::ConcatOp op,
                                PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    if (op.getInputs().size() != 2 ||
        static_cast<int64_t>(op.getDim()) != type.getRank() - 1)
      return rewriter.notifyMatchFailure(
          op, "not a concat of two along the last dim");
    auto rope = op.getInputs()[0].getDefiningOp<RopeOp>();
    auto head = rope ? rope.getInput().getDefiningOp<tensor::ExtractSliceOp>()
                     : nullptr;
    if (!rope || !head || rope.getInterleaved())
      return rewriter.notifyMatchFailure(op,
                                         "first part is not rope of a slice");
    Value x = head.getSource();
    int64_t rotary = rope.getType().getShape().back();
    int64_t dim = type.getShape().back();
    if (x.getType() != type || ShapedType::isDynamic(rotary) ||
        ShapedType::isDynamic(dim) || !isLastDimSlice(head, x, 0, rotary) ||
        !isLastDimSlice(op.getInputs()[1], x, rotary, dim - rotary))
      return rewriter.notifyMatchFailure(op, "not x[..., :R] and x[..., R:]");
    rewriter.replaceOpWithNewOp<RopeOp>(op, type, x, rope.getCos(),
                                        rope.getSin(), UnitAttr());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

/// v == repeat_kv(k, n): [B, H, T, D] -> [B, H, 1, T, D] -> broadcast to
/// [B, H, n, T, D] -> [B, H*n, T, D]. Returns k and sets n (1 when v is not
/// a repetition).
Value matchRepeatKV(Value v, int64_t &n) {
  n = 1;
  auto collapse = v.getDefiningOp<tensor::CollapseShapeOp>();
  if (!collapse)
    return v;
  auto reassoc = collapse.getReassociationIndices();
  auto broadcast = collapse.getSrc().getDefiningOp<linalg::BroadcastOp>();
  if (!broadcast || reassoc.size() != 4 ||
      reassoc[1] != ReassociationIndices{1, 2} ||
      broadcast.getDimensions() != ArrayRef<int64_t>{2})
    return v;
  Value k = stripUnitReshapes(broadcast.getInput());
  auto kType = cast<RankedTensorType>(k.getType());
  if (kType.getRank() != 4)
    return v;
  n = cast<RankedTensorType>(broadcast.getInit().getType()).getDimSize(2);
  return k;
}

/// v (through broadcasts) is `tensor.generate` yielding start + i; sets
/// whether start is zero.
bool isPositionRange(Value v, bool &startsAtZero) {
  auto gen = stripUnitReshapes(v).getDefiningOp<tensor::GenerateOp>();
  if (!gen || gen.getType().getRank() != 1)
    return false;
  auto yield = cast<tensor::YieldOp>(gen.getBody().front().getTerminator());
  Value x = yield.getValue();
  if (auto cast = x.getDefiningOp<arith::IndexCastOp>())
    x = cast.getIn();
  Value index = gen.getBody().front().getArgument(0);
  if (x == index) {
    startsAtZero = true;
    return true;
  }
  Value idx, start;
  if (!matchCommutative<arith::AddIOp>(
          x, [&](Value a) { return a == index; }, idx, start))
    return false;
  startsAtZero = isConstantIntValue(start, 0);
  return true;
}

/// The 1-D value broadcast into `v` and the dim of `v` it varies along.
Value broadcastSource(Value v, int64_t &alongDim) {
  auto b = stripUnitReshapes(v).getDefiningOp<linalg::BroadcastOp>();
  auto type =
      b ? cast<RankedTensorType>(b.getInit().getType()) : RankedTensorType();
  if (!b || type.getRank() != 2 || b.getDimensions().size() != 1)
    return {};
  alongDim = 1 - b.getDimensions()[0];
  return b.getInput();
}

/// The query positions of `keys <cmp> queries` where `keys` are key
/// positions 0.. along dim 1 and `queries` a position range along dim 0;
/// null otherwise.
Value matchKeyQueryRanges(Value keysSide, Value queriesSide) {
  int64_t keyDim, queryDim;
  Value keys = broadcastSource(keysSide, keyDim),
        queries = broadcastSource(queriesSide, queryDim);
  bool keysFromZero;
  if (!keys || !queries || keyDim != 1 || queryDim != 0 ||
      !isPositionRange(keys, keysFromZero) || !keysFromZero)
    return {};
  return queries;
}

/// A run-time condition that is causal by construction:
/// - `key_pos[j] <= query_pos[i]` with key positions 0.. and query positions
///   start.. (the positions exports compute from the sequence lengths), or
/// - a [:S, :S] slice of a constant lower-triangular buffer (GPT-2's bias).
bool isCausalCondition(Value cond) {
  cond = stripBroadcast(cond);
  if (auto cmp = cond.getDefiningOp<arith::CmpIOp>()) {
    Value lhs = cmp.getLhs(), rhs = cmp.getRhs();
    if (cmp.getPredicate() == arith::CmpIPredicate::sge)
      std::swap(lhs, rhs);
    else if (cmp.getPredicate() != arith::CmpIPredicate::sle)
      return false;
    Value queries = matchKeyQueryRanges(lhs, rhs);
    bool queriesFromZero;
    return queries && isPositionRange(queries, queriesFromZero);
  }
  // Leading slices [0:a, 0:b] of the buffer, possibly one axis at a time.
  auto slice = cond.getDefiningOp<tensor::ExtractSliceOp>();
  if (!slice)
    return false;
  auto sizes = slice.getMixedSizes();
  Value source = cond;
  while (auto s = source.getDefiningOp<tensor::ExtractSliceOp>()) {
    if (!s.hasUnitStride() ||
        s.getSourceType().getRank() != s.getType().getRank() ||
        llvm::any_of(s.getMixedOffsets(),
                     [](OpFoldResult o) { return !isZeroInteger(o); }))
      return false;
    source = s.getSource();
  }
  DenseElementsAttr buffer;
  if (!matchPattern(source, m_Constant(&buffer)) ||
      !buffer.getElementType().isInteger(1))
    return false;
  auto type = cast<RankedTensorType>(buffer.getType());
  int64_t rank = type.getRank();
  if (rank < 2 || static_cast<int64_t>(sizes.size()) != rank)
    return false;
  if (!equivalentSizes(sizes[rank - 1], sizes[rank - 2]))
    return false;
  int64_t n = type.getDimSize(rank - 1), m = type.getDimSize(rank - 2);
  auto values = buffer.getValues<bool>();
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      if (values[i * n + j] != (j <= i))
        return false;
  return true;
}

/// Classifies a constant additive mask [.., S, T]: causal (bottom-right
/// aligned), optionally with a sliding window W (key j visible from query i
/// iff i + T - S - W < j <= i + T - S). Hidden entries must be <= -1e9.
struct CausalShape {
  std::optional<int64_t> window;
};
std::optional<CausalShape> classifyCausalMask(RankedTensorType type,
                                              ArrayRef<APFloat> values) {
  if (type.getRank() < 2)
    return std::nullopt;
  int64_t rows = type.getDimSize(type.getRank() - 2),
          cols = type.getDimSize(type.getRank() - 1);
  int64_t blocks = type.getNumElements() / std::max<int64_t>(rows * cols, 1);
  // The window from the last row's first visible key.
  int64_t lo = 0;
  while (lo < cols && !values[(rows - 1) * cols + lo].isZero())
    ++lo;
  int64_t window = cols - lo;
  // Every [rows, cols] block (a mask expanded over the batch) has the shape.
  for (int64_t b = 0; b < blocks; ++b)
    for (int64_t i = 0; i < rows; ++i) {
      int64_t hi = i + cols - rows;
      for (int64_t j = 0; j < cols; ++j) {
        const APFloat &v = values[(b * rows + i) * cols + j];
        bool in = j <= hi && j > hi - window;
        if (in ? !v.isZero() : v.convertToDouble() > -1.0e9)
          return std::nullopt;
      }
    }
  CausalShape shape;
  if (lo > 0)
    shape.window = window;
  return shape;
}

/// HF's make_causal_mask computed at run time: concat(zeros[S, P],
/// where(j < i + 1, 0, min)) along the keys, broadcast over the batch.
/// Key j of the [S, P + S] mask is visible iff j <= i + P: causal.
bool isRuntimeCausalAdditive(Value c) {
  c = stripBroadcast(c);
  Value block = c;
  if (auto concat = c.getDefiningOp<tensor::ConcatOp>()) {
    auto type = cast<RankedTensorType>(c.getType());
    if (static_cast<int64_t>(concat.getDim()) != type.getRank() - 1 ||
        concat.getInputs().size() != 2 || !isSplat(concat.getInputs()[0], 0.0))
      return false;
    block = concat.getInputs()[1];
  }
  auto sel = stripUnitReshapes(block).getDefiningOp<arith::SelectOp>();
  std::optional<double> hidden =
      sel ? getSplat(sel.getFalseValue()) : std::nullopt;
  if (!sel || !isSplat(sel.getTrueValue(), 0.0) || !hidden || *hidden > -1.0e9)
    return false;
  auto cmp =
      stripUnitReshapes(sel.getCondition()).getDefiningOp<arith::CmpIOp>();
  if (!cmp)
    return false;
  Value queries = matchKeyQueryRanges(cmp.getLhs(), cmp.getRhs());
  bool queriesFromZero;
  if (!queries)
    return false;
  if (cmp.getPredicate() == arith::CmpIPredicate::sle)
    return isPositionRange(queries, queriesFromZero) && queriesFromZero;
  if (cmp.getPredicate() != arith::CmpIPredicate::slt)
    return false;
  // j < i + 1
  auto add = stripUnitReshapes(queries).getDefiningOp<arith::AddIOp>();
  if (!add)
    return false;
  for (int k = 0; k < 2; ++k)
    if (isSplat(add->getOperand(1 - k), 1.0) &&
        isPositionRange(add->getOperand(k), queriesFromZero) && queriesFromZero)
      return true;
  return false;
}

/// The additive mask for `select(cond, scores, fill)` with a constant cond:
/// 0 where cond holds, else fill. (A causal one becomes the `causal` flag
/// through the llm canonicalization patterns that run with the raising.)
FailureOr<Value> maskFromCondition(PatternRewriter &rewriter, Location loc,
                                   Value cond, double fill, Type element) {
  DenseElementsAttr attr;
  Value c = stripBroadcast(cond);
  if (!matchPattern(c, m_Constant(&attr)) ||
      !attr.getElementType().isInteger(1))
    return failure();
  auto type = cast<RankedTensorType>(attr.getType());
  SmallVector<APFloat> mask;
  const llvm::fltSemantics &sem = cast<FloatType>(element).getFloatSemantics();
  for (bool keep : attr.getValues<bool>()) {
    APFloat v(keep ? 0.0 : fill);
    bool lost;
    v.convert(sem, APFloat::rmNearestTiesToEven, &lost);
    mask.push_back(v);
  }
  return Value(arith::ConstantOp::create(
      rewriter, loc, DenseElementsAttr::get(type.clone(element), mask)));
}

/// softmax(scale * Q·Kᵀ [+ mask | where(cond, ·, -inf)])·V, with GQA head
/// repetition and a past/present KV concat -> llm.attention.
struct RaiseAttention : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    auto softmax = op.getLhs().getDefiningOp<SoftmaxOp>();
    if (!softmax ||
        softmax.getNormalizedAxis() != softmax.getType().getRank() - 1 ||
        softmax.getType().getRank() != 4)
      return rewriter.notifyMatchFailure(op,
                                         "lhs is not a softmax of 4-D scores");
    Value scores = softmax.getInput();
    Location loc = op.getLoc();
    Type element = softmax.getType().getElementType();

    // Mask.
    Value condition, maskValue;
    double fill = 0;
    if (auto select = scores.getDefiningOp<arith::SelectOp>()) {
      std::optional<double> f = getSplat(select.getFalseValue());
      if (!f || *f > -1.0e9)
        return rewriter.notifyMatchFailure(op, "select does not hide keys");
      condition = select.getCondition();
      fill = *f;
      scores = select.getTrueValue();
    } else if (auto add = scores.getDefiningOp<arith::AddFOp>()) {
      for (int i = 0; i < 2 && !maskValue; ++i)
        if (add->getOperand(i).getDefiningOp<MatmulOp>() ||
            add->getOperand(i).getDefiningOp<arith::DivFOp>() ||
            add->getOperand(i).getDefiningOp<arith::MulFOp>()) {
          maskValue = stripToAligned(add->getOperand(1 - i));
          scores = add->getOperand(i);
        }
    }

    // Scale.
    std::optional<float> scale;
    if (auto div = scores.getDefiningOp<arith::DivFOp>()) {
      if (std::optional<double> c = getSplat(div.getRhs())) {
        scale = static_cast<float>(1.0 / *c);
        scores = div.getLhs();
      }
    } else if (auto mul = scores.getDefiningOp<arith::MulFOp>()) {
      for (int i = 0; i < 2 && !scale; ++i)
        if (std::optional<double> c = getSplat(mul->getOperand(i))) {
          scale = static_cast<float>(*c);
          scores = mul->getOperand(1 - i);
        }
    }
    auto qk = scores.getDefiningOp<MatmulOp>();
    if (!qk)
      return rewriter.notifyMatchFailure(op, "scores are not Q·Kᵀ");
    auto kt = qk.getRhs().getDefiningOp<linalg::TransposeOp>();
    if (!kt || kt.getPermutation().size() != 4)
      return rewriter.notifyMatchFailure(op, "Kᵀ is not a 4-D transpose");
    Value q = qk.getLhs();
    int64_t nk = 1, nv;
    Value k;
    ArrayRef<int64_t> perm = kt.getPermutation();
    // Exporters may fold [B,S,H,D] -> [B,H,S,D] -> Kᵀ into one transpose;
    // then K is built below with the last two axes of that permutation
    // swapped (after every check, so that a failed match changes nothing).
    SmallVector<int64_t> kPerm;
    RankedTensorType kType;
    if (perm == ArrayRef<int64_t>{0, 1, 3, 2}) {
      k = matchRepeatKV(kt.getInput(), nk);
      kType = cast<RankedTensorType>(k.getType());
    } else {
      kPerm = {perm[0], perm[1], perm[3], perm[2]};
      auto inType = cast<RankedTensorType>(kt.getInput().getType());
      SmallVector<int64_t> shape;
      for (int64_t p : kPerm)
        shape.push_back(inType.getDimSize(p));
      kType = RankedTensorType::get(shape, inType.getElementType());
    }
    Value v = matchRepeatKV(op.getRhs(), nv);
    auto qType = cast<RankedTensorType>(q.getType());
    auto vType = cast<RankedTensorType>(v.getType());
    if (qType.getRank() != 4 || kType.getRank() != 4 || vType.getRank() != 4 ||
        nk != nv || kType.getDimSize(1) != vType.getDimSize(1))
      return rewriter.notifyMatchFailure(
          op, "Q, K, V are not [B, H, S, D] with matching heads");
    int64_t numHeads = qType.getDimSize(1), numKvHeads = kType.getDimSize(1);
    if (ShapedType::isDynamic(numHeads) || ShapedType::isDynamic(numKvHeads) ||
        numKvHeads * nk != numHeads)
      return rewriter.notifyMatchFailure(
          op, "head counts do not match the repetition");
    SmallVector<int64_t> expected = {qType.getDimSize(0), numHeads,
                                     qType.getDimSize(2), vType.getDimSize(3)};
    if (failed(verifyCompatibleShape(expected, op.getType().getShape())))
      return rewriter.notifyMatchFailure(op,
                                         "result shape is not [B, Hq, S, Dv]");

    // KV cache: keys and values that are past ++ new along the sequence.
    Value pastKey, pastValue, concatK, concatV;
    auto ck = k ? k.getDefiningOp<tensor::ConcatOp>() : nullptr;
    auto cv = v.getDefiningOp<tensor::ConcatOp>();
    if (ck && cv && ck.getDim() == 2 && cv.getDim() == 2 &&
        ck.getInputs().size() == 2 && cv.getInputs().size() == 2) {
      concatK = k;
      concatV = v;
      pastKey = ck.getInputs()[0];
      pastValue = cv.getInputs()[0];
      k = ck.getInputs()[1];
      v = cv.getInputs()[1];
    }

    int64_t seq = qType.getDimSize(2);
    int64_t total = cast<RankedTensorType>(scores.getType()).getDimSize(3);
    bool causal = false;
    DenseElementsAttr constantCondition;
    if (condition) {
      if (isCausalCondition(condition)) {
        causal = true;
        condition = Value();
      } else if (!matchPattern(stripBroadcast(condition),
                               m_Constant(&constantCondition)) ||
                 ShapedType::isDynamic(seq) || ShapedType::isDynamic(total)) {
        return rewriter.notifyMatchFailure(
            op, "mask condition is neither causal nor constant");
      }
    }
    // HF-style masks: select(padding, fill, causal constant) splits into the
    // causal flag (and sliding window) plus a padding-only additive mask.
    std::optional<int64_t> window;
    arith::SelectOp paddingSelect;
    if (maskValue && !condition)
      if (auto sel = maskValue.getDefiningOp<arith::SelectOp>()) {
        std::optional<double> f = getSplat(sel.getTrueValue());
        Value causalValue = stripBroadcast(sel.getFalseValue());
        SmallVector<APFloat> causalMask;
        auto m = cast<RankedTensorType>(causalValue.getType());
        if (f && *f <= -1.0e9) {
          if (getConstantFloats(causalValue, causalMask)) {
            std::optional<CausalShape> shape =
                classifyCausalMask(m, causalMask);
            if (shape && m.getDimSize(m.getRank() - 2) == seq &&
                m.getDimSize(m.getRank() - 1) == total) {
              paddingSelect = sel;
              window = shape->window;
            }
          } else if (isRuntimeCausalAdditive(sel.getFalseValue())) {
            paddingSelect = sel;
          }
        }
      }
    if (maskValue) {
      // An additive mask must broadcast to [B, Hq, Sq, T].
      auto m = cast<RankedTensorType>(maskValue.getType());
      auto target = cast<RankedTensorType>(scores.getType()).getShape();
      if (m.getRank() > 4 || !isa<FloatType>(m.getElementType()))
        return rewriter.notifyMatchFailure(
            op, "mask is not a float tensor of rank <= 4");
      if (!broadcastsTo(m.getShape(), target))
        return rewriter.notifyMatchFailure(
            op, "mask does not broadcast to the scores");
    }

    // Everything matched: build.
    if (!kPerm.empty()) {
      SmallVector<OpFoldResult> sizes;
      auto inSizes = tensor::getMixedSizes(rewriter, loc, kt.getInput());
      for (int64_t p : kPerm)
        sizes.push_back(inSizes[p]);
      Value init =
          tensor::EmptyOp::create(rewriter, loc, sizes, kType.getElementType());
      k = linalg::TransposeOp::create(rewriter, loc, kt.getInput(), init, kPerm)
              .getResult()[0];
    }
    if (condition) {
      maskValue = *maskFromCondition(rewriter, loc, condition, fill, element);
    }
    if (paddingSelect) {
      causal = true;
      auto type = cast<RankedTensorType>(paddingSelect.getType());
      TypedAttr zero = rewriter.getFloatAttr(type.getElementType(), 0.0);
      Value zeros;
      if (type.hasStaticShape()) {
        zeros = arith::ConstantOp::create(rewriter, loc,
                                          DenseElementsAttr::get(type, zero));
      } else {
        Value init = tensor::EmptyOp::create(
            rewriter, loc,
            tensor::getMixedSizes(rewriter, loc, paddingSelect.getResult()),
            type.getElementType());
        Value scalar = arith::ConstantOp::create(rewriter, loc, zero);
        zeros =
            linalg::FillOp::create(rewriter, loc, scalar, init).getResult(0);
      }
      maskValue =
          arith::SelectOp::create(rewriter, loc, paddingSelect.getCondition(),
                                  paddingSelect.getTrueValue(), zeros);
    }
    auto attention = AttentionOp::create(rewriter, loc, q, k, v, maskValue,
                                         pastKey, pastValue, numHeads,
                                         numKvHeads, causal, scale, window);
    // Later users of the concatenated cache read the present tensors.
    auto after = [&](OpOperand &use) {
      return use.getOwner()->getBlock() == attention->getBlock() &&
             attention->isBeforeInBlock(use.getOwner());
    };
    if (concatK) {
      rewriter.replaceUsesWithIf(concatK, attention.getPresentKey(), after);
      rewriter.replaceUsesWithIf(concatV, attention.getPresentValue(), after);
    }
    Value result = attention.getResult();
    if (result.getType() != op.getType())
      result = tensor::CastOp::create(rewriter, loc, op.getType(), result);
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlir::llm::raise::populateAttentionPatterns(RewritePatternSet &patterns) {
  patterns.add<RaiseRope, FoldPartialRope, RaiseAttention>(
      patterns.getContext());
}
